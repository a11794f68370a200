// Usage errors are the caller's: an unknown option or command, or a flag without its value, exits 2
// (as every other bad input), with commander's one-line message; --help and --version exit 0.
import { describe, expect, it } from 'vitest'
import { runCli } from './run-cli.ts'

describe('cairn usage errors', () => {
  it.each([
    [['start', '--bogus'], /unknown option '--bogus'/],
    [['start', '--dev', '--accounts'], /argument missing/],
    [['nosuchcommand'], /unknown command 'nosuchcommand'/],
  ])('cairn %j exits 2', async (args, message) => {
    const r = await runCli(args)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(message)
  })

  // One command's help as a real process (help-every-command.test.ts runs them all in-process):
  // an option with a bigint default made it throw (issue 66).
  it('`staking create-validator --help` exits 0 with its usage', async () => {
    const r = await runCli(['staking', 'create-validator', '--help'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^Usage: cairn staking create-validator \[options\]/)
    expect(r.stdout).toMatch(/--min-self-bond <coins> +below this self-bond it is jailed \(default: 1\)/)
  })

  it('--version exits 0', async () => {
    const r = await runCli(['--version'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
