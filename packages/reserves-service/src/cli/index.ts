/**
 * @cairn/reserves-service/cli: `cairn reserves …`, every command — the library's (`build`, `proof`,
 * `verify`, `anchor`, `registry`: `@cairn/reserves/cli`) and the service's (`token`, `serve`,
 * `builds`, `audit`, `report`, `backup`, `restore`). `@cairn/node` attaches it with one line.
 */
import { registerAnchor, registerTreeCommands } from '@cairn/reserves/cli'
import type { Command } from 'commander'
import { registerBackup } from './backup.ts'
import { registerReport } from './report.ts'
import { registerServe } from './serve.ts'
import { registerToken } from './token.ts'

/** Registers `cairn reserves …` (build, proof, verify, token, anchor, registry, serve, builds, audit, report, backup, restore) on a commander program. */
export function registerReserves(program: Command): void {
  const r = program
    .command('reserves')
    .description('Proof of liabilities: build Merkle sum trees, issue and verify proofs')
  registerTreeCommands(r)
  registerToken(r)
  registerAnchor(r)
  registerServe(r)
  registerReport(r)
  registerBackup(r)
}
