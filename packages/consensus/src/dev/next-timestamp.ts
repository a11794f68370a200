import { CairnError } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import { ConsensusErrorCode } from '../errors.ts'

/** A header's timestamp is a uint64: the latest a block can carry. */
export const MAX_TIMESTAMP = 2n ** 64n - 1n

/**
 * The timestamp of the block sealed on `parent` when `wanted` is asked for (the clock with its
 * offset, a fixed next timestamp, or the parent's plus an interval): after the parent's, and never
 * past 2^64-1 — a clock moved to the end of time, or an interval that would pass it, stops there.
 * When the parent already has the last timestamp no block can follow it: refused (evm_revert,
 * anvil_rollback or anvil_reset go back).
 */
export function nextTimestamp(parent: BlockHeader, wanted: bigint): bigint {
  if (parent.timestamp >= MAX_TIMESTAMP) throw endOfTime(parent)
  if (wanted <= parent.timestamp) return parent.timestamp + 1n
  return wanted > MAX_TIMESTAMP ? MAX_TIMESTAMP : wanted
}

/** The refusal of a block after one whose timestamp is 2^64-1. */
export function endOfTime(parent: BlockHeader): CairnError {
  return new CairnError(
    ConsensusErrorCode.TIMESTAMP_TOO_HIGH,
    `no block can follow block ${parent.number}: its timestamp is 2^64-1, the latest a header holds`,
    { fault: 'caller', hint: 'go back with evm_revert, anvil_rollback or anvil_reset' },
  )
}
