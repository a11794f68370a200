// `--help` of every `cairn` command and subcommand exits 0 with its help (issue 66: `cairn devnet
// init --help` and `cairn staking create-validator --help` crashed on an option whose default is a
// bigint). In-process, the way a user's `cairn … --help` runs it: the lazy program (program.ts),
// whose stand-in loads the command's module and parses the same arguments; the command paths come
// from the program with every module loaded. help-every-command.e2e.test.ts runs one as a process.
import { type Command, CommanderError } from 'commander'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { buildFullProgram, buildProgram } from '../../src/cli/program.ts'
import { throwUsageErrors } from '../../src/cli/run-program.ts'

/** Every command path under `cmd` (`['staking', 'create-validator']`, …), parents first. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  const out: string[][] = []
  for (const sub of cmd.commands) {
    const path = [...prefix, sub.name()]
    out.push(path, ...commandPaths(sub, path))
  }
  return out
}

/** `cairn <path> --help` in this process: its exit code (as runProgram gives it) and what it printed. */
async function help(path: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  const program = await buildProgram()
  throwUsageErrors(program)
  try {
    await program.parseAsync(['node', 'cairn', ...path, '--help'])
    return { code: 0, out }
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode, out }
    return { code: 1, out: `${out}threw: ${(err as Error).message}` }
  } finally {
    write.mockRestore()
  }
}

afterEach(() => vi.restoreAllMocks())

// Loading every command's module takes seconds on a loaded machine.
describe('cairn <command> --help', { timeout: 180_000 }, () => {
  it('exits 0 with the usage of every command and subcommand', async () => {
    const paths = commandPaths(await buildFullProgram())
    // the tree as it is today, at least: a walk that found nothing would prove nothing
    expect(paths.length).toBeGreaterThan(50)
    expect(paths).toContainEqual(['devnet', 'init'])
    expect(paths).toContainEqual(['staking', 'create-validator'])
    const failed: string[] = []
    for (const path of paths) {
      const r = await help(path)
      if (r.code !== 0 || !r.out.includes(`Usage: cairn ${path.join(' ')}`)) {
        failed.push(`cairn ${path.join(' ')} --help: exit ${r.code}, printed ${JSON.stringify(r.out.slice(0, 200))}`)
      }
    }
    expect(failed).toEqual([])
  })

  it('prints the default of an option whose default is a bigint', async () => {
    expect((await help(['devnet', 'init'])).out).toMatch(/--gas-limit <gas>.*\(default: 30000000\)/s)
    expect((await help(['staking', 'create-validator'])).out).toMatch(/--min-self-bond <coins>.*\(default: 1\)/s)
  })

  it('walks the top-level program too', async () => {
    const r = await help([])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/Usage: cairn/)
  })
})
