/**
 * Work: the expected number of attempts to meet a target, 2^256 / (target + 1) rounded down
 * (Bitcoin's `GetBlockProof`). A proof-of-work header's `difficulty` is the work of its target, so
 * a chain's total difficulty, as Ethereum tools add it up, is its total work.
 */
import { CairnError } from '@cairn/utils'
import { TWO_256 } from './compact-bits.ts'
import { PowErrorCode } from './errors.ts'

/** The work of one block whose target is `target` (in [1, 2^256)). */
export function workOf(target: bigint): bigint {
  if (target <= 0n || target >= TWO_256) {
    throw new CairnError(PowErrorCode.INVALID_PARAMS, 'a target must be in [1, 2^256)', { fault: 'caller' })
  }
  return TWO_256 / (target + 1n)
}
