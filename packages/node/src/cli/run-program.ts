import { errorMessage, isCairnError } from '@cairn/utils'
import { Command, CommanderError } from 'commander'
import { VERSION } from '../version.ts'

/** The bare `cairn` program (name, description, version), before any command is registered. */
export function newProgram(): Command {
  return (
    new Command()
      .name('cairn')
      .description('Cairn: an EVM chain node. Run a dev chain with `cairn start --dev`.')
      .version(VERSION, '-v, --version')
      // `cairn -v` is the version; after a command its own options (`cairn start -vvv`: Anvil's verbosity).
      .enablePositionalOptions()
      .showHelpAfterError('(run with --help for usage)')
  )
}

/** Makes every command throw its usage errors instead of exiting (each command keeps its own setting). */
export function throwUsageErrors(cmd: Command): void {
  cmd.exitOverride()
  for (const sub of cmd.commands) throwUsageErrors(sub)
}

/**
 * Parses argv and runs the command; an error prints one line, `error: <what> (<how to fix>)` (and a
 * stack for a bug), and exits 2 when the caller is to blame, 1 otherwise.
 */
export async function runProgram(program: Command): Promise<void> {
  throwUsageErrors(program)
  try {
    await program.parseAsync(process.argv)
  } catch (err) {
    // A usage error (unknown option or command, missing value) is the caller's: exit 2, as bad
    // input does. Commander has printed it already (or the help, or the version: exit 0).
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2)
    const msg = (isCairnError(err) ? err.userMessage : errorMessage(err)).replace(/\s*\n\s*/g, ' ')
    process.stderr.write(`error: ${msg}\n`)
    if (!isCairnError(err) || err.fault === 'internal') process.stderr.write(`${(err as Error).stack ?? ''}\n`)
    process.exit(isCairnError(err) && err.fault === 'caller' ? 2 : 1)
  }
}
