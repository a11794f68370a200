// `cairn arb` flags the issue added (unit tier): `--funding` takes flash, capital or auto and says
// what it takes otherwise; `arb deploy --fund` needs `--base`; the arb CLI module imports nothing
// heavy when the program is built (the service loads when `arb start` runs).
import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { fundingFlag, registerArb } from '../src/cli/index.ts'

describe('cairn arb flags', () => {
  it('--funding: flash, capital or auto; anything else is a caller error naming the choices', () => {
    for (const v of ['flash', 'capital', 'auto'] as const) expect(fundingFlag(v)).toBe(v)
    expect(() => fundingFlag('loan')).toThrow(/bad --funding loan/)
    try {
      fundingFlag('x')
    } catch (err) {
      expect((err as { hint?: string }).hint).toMatch(/flash .*capital .*auto/)
    }
  })

  it('arb deploy --fund without --base is refused before any connection', async () => {
    const program = new Command().exitOverride()
    registerArb(program)
    await expect(
      program.parseAsync([
        'node',
        'cairn',
        'arb',
        'deploy',
        '--rpc',
        'http://127.0.0.1:1',
        '--key-file',
        'k',
        '--fund',
        '5',
      ]),
    ).rejects.toThrow(/--fund needs --base/)
  })

  it('the CLI module imports the service, service-kit and viem only inside the commands', () => {
    const src = readFileSync(new URL('../src/cli/index.ts', import.meta.url), 'utf8')
    const staticImports = src.split('\n').filter((l) => /^import (?!type)/.test(l))
    // service-kit's tracing-flags subpath is the exception: it imports @cairn/utils only.
    for (const l of staticImports)
      expect(l).not.toMatch(/service-kit(?!\/tracing-flags')|service\/service|viem|\.\/deploy/)
  })
})
