import type { BlockError } from '@cairn/chain'
import { PeerAction } from './scoring.ts'

/**
 * What a block a peer is to blame for costs it. This node forwards a block only once it imported
 * it, so an honest peer never sends one whose execution disagrees with its header: that is
 * fatal. Every other blamed refusal (an undecodable block, a bad header, a known-bad block, one
 * that would revert finality) could be a bug or a race: low tolerance.
 */
export function blockPenalty(error: BlockError): PeerAction {
  return error.code === 'CHAIN_EXECUTION_MISMATCH' ? PeerAction.Fatal : PeerAction.LowToleranceError
}
