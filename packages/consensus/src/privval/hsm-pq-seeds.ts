/**
 * The ML-DSA seeds of a validator whose secp256k1 key is on a PKCS#11 token, on a `hybrid` chain
 * (`bft.signer` kind `hsm`; docs/operations/keys.md, "Keys on an HSM"): no token holds ML-DSA keys,
 * so each token key is paired with a seed file in `DATADIR/keys` — `bft.signer.key` with
 * `validator.mldsa.seed`, and during a consensus key rotation `bft.signer.nextKey` with
 * `validator.next.mldsa.seed` (as the local signer pairs `validator.next.key` with it).
 *
 * Once the chain has rotated, the node promotes the seeds as the local signer does
 * (promote-next-key.ts `promoteHsmPqSeeds`: the old seed kept as `validator.retired-<old address>.mldsa.seed`,
 * the next seed renamed over `validator.mldsa.seed`, each fsynced), and logs that the config must
 * change (`key` to `nextKey`'s label, `nextKey` removed): the node cannot edit it. Until then a
 * restart with the old config still works — the retired seed names the old token key, so the pair
 * is `key` ‖ the retired seed and `nextKey` ‖ `validator.mldsa.seed` — and a crash between the two
 * renames is completed at the start (the retired seed is the decision).
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { CairnError, equalsBytes } from '@cairn/utils'
import { ConsensusErrorCode } from '../errors.ts'
import { loadPqSeed, pqNextSeedPath, pqSeedPath, retiredPqSeedName } from './pq-seed-file.ts'
import { movePqSeed } from './promote-next-key.ts'

/** The seeds a token's keys pair with, and where they were read. */
export interface HsmPqSeeds {
  current: { seed: Uint8Array; path: string }
  /** The next key's seed (with `nextKey`), else null. */
  next: { seed: Uint8Array; path: string } | null
  /** The seeds were already promoted (the chain rotated; the config still names the old key). */
  promoted: boolean
  /** This call completed a seed promotion a crash interrupted between its two renames. */
  completed: boolean
}

const RETIRED_SEED = /^validator\.retired-0x[0-9a-fA-F]{40}\.mldsa\.seed$/

function refuse(message: string, hint: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, message, { fault: 'caller', hint })
}

/**
 * Refuses, before the token opens, a half-made pair: `nextKey` with no next seed (and no sign of a
 * promotion: no retired seed at all), or a next seed with no `nextKey`.
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`
 */
export function checkHsmPqSeedFiles(keysDir: string, nextKey: string | undefined): void {
  const nextSeedPath = pqNextSeedPath(keysDir)
  const nextSeed = existsSync(nextSeedPath)
  if (nextKey === undefined && nextSeed) {
    throw refuse(
      `${nextSeedPath} has no bft.signer.nextKey beside it: on a hybrid chain the next key is the pair (the token's next key ‖ the next seed)`,
      'set bft.signer.nextKey to the label of the next key on the token (`cairn signer hsm generate`), or remove the seed to cancel a rotation that was never sent',
    )
  }
  // A retired seed may be this key's (a promotion done; which one is known once the token opens).
  const retired = existsSync(keysDir) && readdirSync(keysDir).some((f) => RETIRED_SEED.test(f))
  if (nextKey !== undefined && !nextSeed && !retired) throw missingNextSeed(nextKey, nextSeedPath)
}

function missingNextSeed(nextKey: string, nextSeedPath: string): CairnError {
  return refuse(
    `bft.signer.nextKey ("${nextKey}") has no ML-DSA seed beside it (${nextSeedPath}): on a hybrid chain the token holds the secp256k1 part only, and the next key is the pair`,
    `make the seed, (umask 077; openssl rand -hex 32 > ${nextSeedPath}), and restart before sending the rotation (\`cairn signer hsm rotation-proof --pq-seed-file ${nextSeedPath}\` prints its ML-DSA public key); or remove bft.signer.nextKey`,
  )
}

/**
 * The seeds of the token keys `current` (`bft.signer.key`'s EIP-55 address) and `next`
 * (`nextKey`'s label and EIP-55 address, null without one), completing a seed promotion a crash
 * interrupted.
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG` for a half-made pair or a next seed equal to the
 *   current one; `KEY_FILE_*` for a bad seed file; `KEY_PROMOTION_CONFLICT`
 */
export function hsmPqSeeds(
  keysDir: string,
  keys: { current: string; next: { label: string; address: string } | null },
): HsmPqSeeds {
  const seedPath = pqSeedPath(keysDir)
  const nextSeedPath = pqNextSeedPath(keysDir)
  if (keys.next === null) {
    checkHsmPqSeedFiles(keysDir, undefined)
    return { current: { seed: loadPqSeed(seedPath), path: seedPath }, next: null, promoted: false, completed: false }
  }
  const retiredPath = join(keysDir, retiredPqSeedName(keys.current))
  if (existsSync(retiredPath)) {
    // The chain rotated and the node began (or finished) moving the seeds: the current key's seed
    // is the retired one, the next key's is in place.
    const completed = existsSync(nextSeedPath)
    if (completed) movePqSeed(keysDir, keys.current)
    return {
      current: { seed: loadPqSeed(retiredPath), path: retiredPath },
      next: { seed: loadPqSeed(seedPath), path: seedPath },
      promoted: true,
      completed,
    }
  }
  if (!existsSync(nextSeedPath)) throw missingNextSeed(keys.next.label, nextSeedPath)
  const current = loadPqSeed(seedPath)
  const next = loadPqSeed(nextSeedPath)
  if (equalsBytes(current, next)) {
    throw refuse(
      `${nextSeedPath} is the same seed as ${seedPath}`,
      'a rotation needs a new ML-DSA seed: make another validator.next.mldsa.seed before sending the rotation',
    )
  }
  return {
    current: { seed: current, path: seedPath },
    next: { seed: next, path: nextSeedPath },
    promoted: false,
    completed: false,
  }
}
