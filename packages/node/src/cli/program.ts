import type { Command } from 'commander'
import { registerAccount } from './commands/account.ts'
import { registerAuth } from './commands/auth.ts'
import { registerConfig } from './commands/config.ts'
import { registerDb } from './commands/db.ts'
import { registerDevnet } from './commands/devnet.ts'
import { registerExport } from './commands/export.ts'
import { registerImport } from './commands/import.ts'
import { registerInit } from './commands/init.ts'
import { registerKeys } from './commands/keys.ts'
import { registerSolc } from './commands/solc.ts'
import { registerStart } from './commands/start.ts'
import { newProgram } from './run-program.ts'

/** The `cairn` command tree (one module per command under ./commands), not yet parsed. */
export async function buildProgram(): Promise<Command> {
  const program = newProgram()

  registerStart(program)
  registerInit(program)
  registerAccount(program)
  registerDb(program)
  registerExport(program)
  registerImport(program)
  registerKeys(program)
  registerDevnet(program)
  registerConfig(program)
  registerAuth(program)
  registerSolc(program)
  ;(await import('./commands/reserves.ts')).registerReserves(program)
  ;(await import('./commands/arb.ts')).registerArb(program)
  ;(await import('./commands/staking.ts')).registerStaking(program)
  ;(await import('./commands/gov.ts')).registerGov(program)
  return program
}
