import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { ConsensusErrorCode } from '../errors.ts'
import { type KeyFile, loadOrCreateKey } from './key-file.ts'
import { promoteNextKeyFile, retiredKeyName } from './promote-next-key.ts'

/**
 * Validator key rotation: a new key is created beside the current one with the height it takes
 * over from. Below that height the current key signs; from it on, the new one. Once the chain has
 * passed the height, the start-up promotes the new key and keeps the old one as
 * `validator.retired-<address>.key` (never deleted: it may be needed to prove past votes).
 *
 * Files in `DATADIR/keys/`: `validator.key`, `validator.next.key`, `validator.rotation.json`
 * (`{ activeFrom, current, next }`), all 0600.
 *
 * With proof of stake the chain decides instead (`cairn staking rotate-key`,
 * `Staking.rotateConsensusKey`): `validator.next.key` without `validator.rotation.json` is the
 * key the staking contract rotates to ({@link ValidatorKeys.following}); the engine signs each height
 * with whichever of the two keys is in its validator set, and the running node promotes the file
 * once the rotation took effect (promote-next-key.ts, docs/operations/keys.md). Either promotion
 * keeps the old key under a second name before the new one replaces it: never no `validator.key`.
 * On a hybrid chain the next ML-DSA seed `validator.next.mldsa.seed` goes with `validator.next.key`;
 * on an ml-dsa-65 chain the seed alone rotates (no `validator.next.key`): the signer
 * (pq-signer.ts) reads it and the promotion moves it (pq-seed-file.ts, promote-next-key.ts).
 */
export interface ValidatorKeys {
  current: KeyFile
  next: { key: KeyFile; activeFrom: bigint } | null
  /** `validator.next.key` with no rotation height: the key the chain's staking contract rotates to. */
  following: KeyFile | null
  /** The key that signs at `height`. */
  keyAt(height: bigint): KeyFile
}

const rotationSchema = z
  .object({ activeFrom: z.string().regex(/^[0-9]+$/), current: z.string(), next: z.string() })
  .strict()

function paths(keysDir: string) {
  return {
    current: join(keysDir, 'validator.key'),
    next: join(keysDir, 'validator.next.key'),
    rotation: join(keysDir, 'validator.rotation.json'),
  }
}

/** Schedules a rotation to a new key from `activeFrom`; refuses when one is already pending. */
export function scheduleValidatorRotation(keysDir: string, activeFrom: bigint, headNumber: bigint): ValidatorKeys {
  const p = paths(keysDir)
  if (!existsSync(p.current)) {
    throw new CairnError(ConsensusErrorCode.KEY_ROTATION_NO_KEY, `there is no validator key in ${keysDir} to rotate`, {
      fault: 'caller',
      hint: 'start the node once with keys.validator = true to create one',
    })
  }
  if (existsSync(p.rotation) || existsSync(p.next)) {
    throw new CairnError(
      ConsensusErrorCode.KEY_ROTATION_PENDING,
      `a validator key rotation is already pending in ${keysDir}`,
      {
        fault: 'caller',
        hint: 'wait until the chain passes its height (the node promotes the key at start), or remove validator.next.key and validator.rotation.json',
      },
    )
  }
  if (activeFrom <= headNumber) {
    throw new CairnError(
      ConsensusErrorCode.KEY_ROTATION_HEIGHT,
      `height ${activeFrom} is not above the head (${headNumber})`,
      {
        fault: 'caller',
        hint: 'choose a height in the future, leaving time to restart the node',
      },
    )
  }
  const current = loadOrCreateKey(p.current, 'validator key')
  const next = loadOrCreateKey(p.next, 'next validator key')
  const tmp = `${p.rotation}.tmp-${process.pid}`
  writeFileSync(
    tmp,
    `${JSON.stringify({ activeFrom: activeFrom.toString(), current: current.address, next: next.address })}\n`,
    { mode: 0o600 },
  )
  renameSync(tmp, p.rotation)
  return schedule(current, { key: next, activeFrom })
}

/**
 * Loads the validator keys; if a scheduled rotation's height is at or below `headNumber`, the new
 * key becomes the current one and the old one is kept as retired.
 */
export function loadValidatorKeys(keysDir: string, headNumber: bigint): ValidatorKeys {
  const p = paths(keysDir)
  let current = loadOrCreateKey(p.current, 'validator key')
  if (!existsSync(p.rotation)) {
    const following = existsSync(p.next) ? loadOrCreateKey(p.next, 'next validator key') : null
    return { ...schedule(current, null), following }
  }
  const parsed = rotationSchema.safeParse(JSON.parse(readFileSync(p.rotation, 'utf8')))
  if (
    parsed.success &&
    !existsSync(p.next) &&
    current.address === parsed.data.next &&
    existsSync(join(keysDir, retiredKeyName(parsed.data.current)))
  ) {
    // Promoted, and stopped before the record went: finish.
    rmSync(p.rotation)
    return schedule(current, null)
  }
  if (!parsed.success || !existsSync(p.next)) {
    throw new CairnError(
      ConsensusErrorCode.KEY_ROTATION_INVALID,
      `the validator key rotation in ${keysDir} is incomplete or unreadable`,
      {
        fault: 'caller',
        hint: 'restore validator.next.key and validator.rotation.json from your key backup, or remove both to cancel',
      },
    )
  }
  const next = loadOrCreateKey(p.next, 'next validator key')
  const activeFrom = BigInt(parsed.data.activeFrom)
  if (headNumber < activeFrom) return schedule(current, { key: next, activeFrom })
  current = promoteNextKeyFile(keysDir, { current: current.address, next: next.address }).current
  rmSync(p.rotation)
  return schedule(current, null)
}

function schedule(current: KeyFile, next: ValidatorKeys['next']): ValidatorKeys {
  return {
    current,
    next,
    following: null,
    keyAt: (height) => (next && height >= next.activeFrom ? next.key : current),
  }
}
