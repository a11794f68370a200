import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Chain } from '@cairn/chain'
import { type DevControls, decodeDump, dumpState, loadEdit } from '@cairn/rpc'

/**
 * Anvil's `--load-state FILE` / `--dump-state FILE` / `--state FILE` (dev chains): the accounts of
 * a state file (anvil_dumpState's JSON, plain or gzipped, Anvil's or Cairn's) are written in one
 * state-edit block at start; the state is written to the file, as plain JSON, on a clean stop.
 */
export async function loadStateFile(file: string, dev: Pick<DevControls, 'editState'>): Promise<void> {
  await dev.editState(loadEdit(decodeDump(readFileSync(file))))
}

export async function dumpStateFile(file: string, chain: Chain): Promise<void> {
  const tmp = `${file}.tmp`
  writeFileSync(tmp, JSON.stringify(await dumpState({ chain })))
  renameSync(tmp, file)
}
