import { existsSync } from 'node:fs'
import { join } from 'node:path'
import {
  type KeyFile,
  loadOrCreateKey,
  loadValidatorKeys,
  type PromotedKeys,
  recoverKeyPromotion,
  type ValidatorKeys,
} from '@cairn/consensus/validator-keys'
import type { DatadirLayout } from '../datadir.ts'

/** The node's own keys: `DATADIR/keys/node.key` (identity) and `DATADIR/keys/validator.key`. */
export interface NodeKeys {
  /** The identity key file; null when the identity is held elsewhere (`p2p.identity` kind `hsm`). */
  identity: KeyFile | null
  /** The validator key, with its scheduled rotation if any. */
  validator: ValidatorKeys | null
  /** A promotion of the next key that a crash interrupted, completed by this load (promote-next-key.ts). */
  recovered: PromotedKeys | null
}

/**
 * Loads (or creates) the identity key unless it is held elsewhere (`identity: false`: neither read
 * nor made), and the validator key when `validator` is asked for or the file exists. Any key
 * readable by other users stops the start, and so does a next key without `validator.key`; a
 * promotion of the next key interrupted by a crash is completed first.
 */
export function loadNodeKeys(
  datadir: DatadirLayout,
  opts: { validator: boolean; identity?: boolean; headNumber?: bigint },
): NodeKeys {
  const dir = join(datadir.root, 'keys')
  const validatorPath = join(dir, 'validator.key')
  const recovered = recoverKeyPromotion(dir, { validator: opts.validator })
  return {
    identity: opts.identity === false ? null : loadOrCreateKey(join(dir, 'node.key'), 'node identity key'),
    // A rotation whose height the head has reached is completed here (head unknown: -1, none is).
    validator: opts.validator || existsSync(validatorPath) ? loadValidatorKeys(dir, opts.headNumber ?? -1n) : null,
    recovered,
  }
}
