import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { Chain } from '@cairn/chain'
import { type DevControls, decodeDump, dumpedHead, dumpState, loadEdit } from '@cairn/rpc'

/** The most empty blocks a loaded state file's head number is caught up with (see {@link loadStateFile}). */
export const MAX_CATCH_UP_BLOCKS = 100_000n

/** What loading a state file did: the head it now stands at, and whether it reached the file's own. */
export interface LoadedState {
  head: bigint
  /** The file's head number, when it names one. */
  fileHead?: bigint
  /** Blocks sealed to reach the file's head number (empty ones, after the state edit). */
  sealed: bigint
}

/**
 * Anvil's `--load-state FILE` / `--dump-state FILE` / `--state FILE` (dev chains): the accounts of
 * a state file (anvil_dumpState's JSON, plain or gzipped, Anvil's or Cairn's) are written in one
 * state-edit block at start; the state is written to the file, as plain JSON, on a clean stop.
 *
 * The file's head number is restored as Anvil restores it: empty blocks are sealed after the edit
 * until the head has the file's number (its timestamp too, where the clock allows: the last one
 * gets the file's timestamp when that is later than the blocks before). Anvil keeps the dumped
 * blocks themselves; Cairn's are new ones, so the history's hashes differ — the state and the
 * number are the file's. Past {@link MAX_CATCH_UP_BLOCKS} blocks nothing is sealed (`fileHead` says).
 */
export async function loadStateFile(
  file: string,
  dev: Pick<DevControls, 'editState' | 'mine' | 'setNextBlockTimestamp'>,
  chain: Pick<Chain, 'head'>,
): Promise<LoadedState> {
  const dump = decodeDump(readFileSync(file))
  await dev.editState(loadEdit(dump))
  const target = dumpedHead(dump)
  let head = chain.head.header.number
  const gap = target.number !== undefined ? target.number - head : 0n
  if (gap <= 0n || gap > MAX_CATCH_UP_BLOCKS) {
    return { head, ...(target.number !== undefined ? { fileHead: target.number } : {}), sealed: 0n }
  }
  // Timestamps one second apart, ending at the file's when that leaves them after the head's.
  const first = target.timestamp !== undefined ? target.timestamp - gap + 1n : undefined
  const headTime = chain.head.header.timestamp
  for (let i = 0n; i < gap; i++) {
    if (first !== undefined && first > headTime) dev.setNextBlockTimestamp(first + i)
    await dev.mine()
  }
  head = chain.head.header.number
  return { head, fileHead: target.number as bigint, sealed: gap }
}

export async function dumpStateFile(file: string, chain: Chain): Promise<void> {
  const tmp = `${file}.tmp`
  writeFileSync(tmp, JSON.stringify(await dumpState({ chain })))
  renameSync(tmp, file)
}
