/**
 * Validator-set changes under a post-quantum scheme. A change record is `[address, power]` (extra
 * data version 3, staking's `endBlock` updates): it carries no ML-DSA key. Under `hybrid` a change
 * that brings a validator into the set must bring its key, so one that cannot (a joiner whose key
 * no one registered) is left out with a logged reason, the same on every node (a function of the
 * set and the changes); power changes and removals of members apply as under secp256k1.
 */
import type { Logger } from '@cairn/utils'
import { hashKey } from '../messages.ts'
import type { ValidatorChangeInput, ValidatorSet } from '../validator-set.ts'
import { needsPqKeys } from './scheme.ts'

/** A change left out, with the reason. */
export interface RefusedValidatorChange {
  change: ValidatorChangeInput
  reason: string
}

/**
 * The changes `set` (the set they apply to) can take under its scheme, and those it cannot.
 * @example
 * const { admitted } = admitValidatorChanges(schedule.at(height + 1), changes, logger)
 */
export function admitValidatorChanges<C extends ValidatorChangeInput>(
  set: ValidatorSet,
  changes: readonly C[],
  logger?: Logger,
): { admitted: C[]; refused: RefusedValidatorChange[] } {
  if (!needsPqKeys(set.scheme)) return { admitted: [...changes], refused: [] }
  const admitted: C[] = []
  const refused: RefusedValidatorChange[] = []
  for (const c of changes) {
    if (c.votingPower > 0n && set.indexOf(c.address) < 0 && (c.pqPublicKey ?? null) === null) {
      refused.push({
        change: c,
        reason: `joins the ${set.scheme} set without a registered ML-DSA-65 key (validator changes carry no keys yet)`,
      })
    } else {
      admitted.push(c)
    }
  }
  for (const r of refused) {
    logger?.warn(
      { validator: hashKey(r.change.address), power: r.change.votingPower.toString(), scheme: set.scheme },
      `bft: validator change left out: ${r.reason}`,
    )
  }
  return { admitted, refused }
}
