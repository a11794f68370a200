import { errorMessage, isCairnError } from '@cairn/utils'
import { Command } from 'commander'
import { VERSION } from '../version.ts'
import { registerAccount } from './commands/account.ts'
import { registerAuth } from './commands/auth.ts'
import { registerConfig } from './commands/config.ts'
import { registerDb } from './commands/db.ts'
import { registerExport } from './commands/export.ts'
import { registerImport } from './commands/import.ts'
import { registerInit } from './commands/init.ts'
import { registerKeys } from './commands/keys.ts'
import { registerStart } from './commands/start.ts'

/** The `cairn` command line: one module per command under ./commands. */
const program = new Command()
program
  .name('cairn')
  .description('Cairn: an EVM chain node. Run a dev chain with `cairn start --dev`.')
  .version(VERSION, '-v, --version')
  .showHelpAfterError('(run with --help for usage)')

registerStart(program)
registerInit(program)
registerAccount(program)
registerDb(program)
registerExport(program)
registerImport(program)
registerKeys(program)
registerConfig(program)
registerAuth(program)
;(await import('./commands/reserves.ts')).registerReserves(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  const msg = (isCairnError(err) ? err.userMessage : errorMessage(err)).replace(/\s*\n\s*/g, ' ')
  process.stderr.write(`error: ${msg}\n`)
  if (!isCairnError(err) || err.fault === 'internal') process.stderr.write(`${(err as Error).stack ?? ''}\n`)
  process.exit(isCairnError(err) && err.fault === 'caller' ? 2 : 1)
}
