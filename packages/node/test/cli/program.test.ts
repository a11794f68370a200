// The `cairn` program loads a command's module only when that command runs (program.ts): `cairn
// --help` lists the commands from a table, and `cairn start` never loads the arbitrage, reserves,
// staking or devnet code. Checked two ways: the table says what the modules say (the help is the
// same as with every module loaded), and the static import graphs (what Node loads before any code
// runs) of the program and of `cairn start` hold none of the modules they must not.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Help } from 'commander'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { buildFullProgram, buildProgram, COMMANDS } from '../../src/cli/program.ts'

const PACKAGES = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(PACKAGES, 'node/src/cli')

/** Where an import of `spec` from `from` leads: a workspace source file, or undefined (an npm package, a built-in). */
function resolveImport(spec: string, from: string): string | undefined {
  if (spec.startsWith('.')) return resolve(dirname(from), spec)
  const m = /^@cairn\/([^/]+)(\/.*)?$/.exec(spec)
  if (!m) return undefined
  const pkg = join(PACKAGES, m[1] as string)
  const exports = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).exports as Record<string, string>
  const target = exports[`.${m[2] ?? ''}`]
  if (!target) throw new Error(`${spec} (from ${from}): no such export`)
  return join(pkg, target)
}

/**
 * The files a module loads before its code runs: its static imports and re-exports, transitively
 * (not `import type`, which the compiler drops, nor `import()`, which loads when it runs).
 */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>()
  const todo = [entry]
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue
    seen.add(file)
    const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false)
    for (const st of src.statements) {
      let spec: ts.Expression | undefined
      if (ts.isImportDeclaration(st) && !st.importClause?.isTypeOnly) spec = st.moduleSpecifier
      if (ts.isExportDeclaration(st) && !st.isTypeOnly) spec = st.moduleSpecifier
      if (!spec || !ts.isStringLiteral(spec)) continue
      const next = resolveImport(spec.text, file)
      if (next) todo.push(next)
    }
  }
  return seen
}

const rel = (files: Set<string>) => [...files].map((f) => f.slice(PACKAGES.length)).sort()

// Loading every command's module (the first test) takes seconds on a loaded machine.
describe('the cairn program', { timeout: 120_000 }, () => {
  it('lists every command as its module declares it', async () => {
    const full = await buildFullProgram()
    const help = new Help()
    expect(full.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name))
    for (const entry of COMMANDS) {
      const cmd = full.commands.find((c) => c.name() === entry.name)
      expect({ name: entry.name, term: help.subcommandTerm(cmd!), description: cmd!.description() }).toEqual({
        name: entry.name,
        term: entry.term,
        description: entry.description,
      })
    }
  })

  it('has an entry for every module under src/cli/commands', () => {
    const loaded = COMMANDS.map((c) => /commands\/([\w-]+\.ts)/.exec(c.load.toString())?.[1])
    expect(
      readdirSync(join(CLI, 'commands'))
        .filter((f) => f.endsWith('.ts'))
        .sort(),
    ).toEqual(loaded.sort())
  })

  it('prints the same `cairn --help` as the program with every module loaded', async () => {
    const [lazy, full] = [await buildProgram(), await buildFullProgram()]
    expect(lazy.helpInformation()).toBe(full.helpInformation())
    expect(lazy.helpInformation()).toMatch(/^ {2}arb {2,}DEX arbitrage/m)
  })

  it('loads no command module before a command runs', () => {
    const graph = rel(staticGraph(join(CLI, 'program.ts')))
    expect(graph.filter((f) => f.includes('/cli/commands/'))).toEqual([])
    // and nothing of a node: the program is commander and the table
    expect(graph).toEqual(
      [
        'node/src/cli/program.ts',
        'node/src/cli/run-program.ts',
        'node/src/version.ts',
        ...graph.filter((f) => f.startsWith('utils/')),
      ].sort(),
    )
  })

  it.each([
    'commands/start.ts',
    'start-main.ts',
  ])('`cairn start` (%s) loads no arbitrage, reserves, p2p or other command module', (entry) => {
    const graph = rel(staticGraph(join(CLI, entry)))
    // it does load the node (the check walks the real graph)
    expect(graph).toContain('node/src/node.ts')
    expect(graph.filter((f) => /^(arbitrage|reserves)\//.test(f))).toEqual([])
    // the p2p host (and libp2p with it) is imported only when the network is on, never by --dev
    expect(graph.filter((f) => f.startsWith('p2p/'))).toEqual([])
    expect(graph.filter((f) => /cli\/commands\/(?!start\.ts)/.test(f))).toEqual([])
  })
})
