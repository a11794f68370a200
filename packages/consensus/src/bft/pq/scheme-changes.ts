/**
 * Validator-set changes under a post-quantum scheme. A change record that brings a validator in
 * is `[address, power, pqPublicKey]` (extra data version 3, staking's `endBlock` updates with the
 * key the staking contract holds): under `hybrid` and `ml-dsa-65` a joiner must bring a valid key
 * (`checkPqValidatorEntry`: 1,952 bytes, and under ml-dsa-65 its address is the key's), so one
 * that cannot (no key registered, a malformed one) is left out with a logged reason, the same on
 * every node (a function of the set and the changes); power changes and removals of members apply
 * as under secp256k1.
 */
import { errorMessage, type Logger } from '@cairn/utils'
import { hashKey } from '../messages.ts'
import type { ValidatorChangeInput, ValidatorSet } from '../validator-set.ts'
import { checkPqValidatorEntry, needsPqKeys } from './scheme.ts'

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
    if (c.votingPower === 0n || set.indexOf(c.address) >= 0) {
      admitted.push(c)
      continue
    }
    if ((c.pqPublicKey ?? null) === null) {
      refused.push({ change: c, reason: `joins the ${set.scheme} set without a registered ML-DSA-65 key` })
      continue
    }
    try {
      checkPqValidatorEntry(set.scheme, { address: c.address, pqPublicKey: c.pqPublicKey ?? null })
      admitted.push(c)
    } catch (err) {
      refused.push({ change: c, reason: `joins the ${set.scheme} set with a bad key: ${errorMessage(err)}` })
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
