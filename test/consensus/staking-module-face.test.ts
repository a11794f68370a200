// Staking and governance are reached through the package's entries only (`@cairn/consensus`,
// `/staking`, `/governance`), never a file path into their sources; and governance's entry,
// which `cairn gov` loads at every run, imports nothing heavy: no staking, no engine, no EVM.
import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tsFiles } from '../ts-files.ts'

const ROOT = join(import.meta.dirname, '../..')
const CONSENSUS = join(ROOT, 'packages/consensus')

/** The module specifiers `text` imports or re-exports (with `types: false`, those left at run time). */
function imports(text: string, opts: { types?: boolean } = {}): string[] {
  const out: string[] = []
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]/gm)) {
    if (m[1] === undefined || opts.types !== false) out.push(m[2] as string)
  }
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1] as string)
  return out
}
const runtimeImports = (text: string) => imports(text, { types: false })

describe('the staking and governance modules’ face', () => {
  it('no file outside consensus imports a path into staking’s or governance’s sources', () => {
    const outside = [
      ...tsFiles(join(ROOT, 'packages')).filter((f) => !f.startsWith(`${CONSENSUS}/`)),
      ...tsFiles(join(ROOT, 'test')),
    ]
    const reaching = outside.flatMap((f) =>
      imports(readFileSync(f, 'utf8'))
        .filter((s) => /consensus\/src\/(staking|governance)\//.test(s))
        .map((s) => `${relative(ROOT, f)} imports ${s}`),
    )
    expect(reaching).toEqual([])
  })

  it('governance imports only itself, consensus’s errors, the contracts, utils and viem at run time', () => {
    const allowed = /^(\.\/|\.\.\/errors\.ts$|@cairn\/contracts$|@cairn\/utils$|viem$)/
    const files = tsFiles(join(CONSENSUS, 'src/governance'))
    expect(files.length).toBeGreaterThan(0)
    const bad = files.flatMap((f) =>
      runtimeImports(readFileSync(f, 'utf8'))
        .filter((s) => !allowed.test(s))
        .map((s) => `${relative(ROOT, f)} imports ${s}`),
    )
    expect(bad).toEqual([])
  })

  it('the gov command loads consensus through the governance entry alone', () => {
    const gov = readFileSync(join(ROOT, 'packages/node/src/cli/commands/gov.ts'), 'utf8')
    expect(runtimeImports(gov).filter((s) => s.startsWith('@cairn/consensus'))).toEqual(['@cairn/consensus/governance'])
  })

  it('reads imports as the rules above mean them', () => {
    const text = [
      "import type { A } from '../staking/a.ts'",
      "import { b } from './b.ts'",
      "export { c } from '../bft/c.ts'",
      "const d = await import('@cairn/consensus/staking')",
    ].join('\n')
    expect(runtimeImports(text)).toEqual(['./b.ts', '../bft/c.ts', '@cairn/consensus/staking'])
    expect(imports(text)).toEqual(['../staking/a.ts', './b.ts', '../bft/c.ts', '@cairn/consensus/staking'])
  })
})
