/**
 * A validator's ML-DSA-65 seed (32 bytes, FIPS 204's ξ) under the `hybrid` and `ml-dsa-65` consensus schemes, kept
 * as a hex file beside its secp256k1 key (`DATADIR/keys/validator.mldsa.seed`, mode 0600): the
 * ML-DSA key pair is derived from it at start, and its public key is what the genesis registers
 * (`config.cairn.bft.validators[i].pqPublicKey`). Kept like a private key.
 *
 * A consensus key rotation on a PQ chain (`cairn staking rotate-key`) makes the next seed beside it,
 * `validator.next.mldsa.seed` (as `validator.next.key` beside `validator.key`); once the chain has
 * rotated, the node promotes it and keeps the old one as `validator.retired-<address>.mldsa.seed`
 * (promote-next-key.ts).
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CairnError } from '@cairn/utils'
import { ConsensusErrorCode } from '../errors.ts'
import { checkKeyFilePermissions } from './key-file.ts'

/** The seed file's name in a datadir's `keys/` directory. */
export const PQ_SEED_FILE = 'validator.mldsa.seed'

/** The next seed's name during a key rotation (beside `validator.next.key` under hybrid). */
export const PQ_NEXT_SEED_FILE = 'validator.next.mldsa.seed'

/** Where the next ML-DSA seed of a key rotation lives in `keysDir`. */
export function pqNextSeedPath(keysDir: string): string {
  return join(keysDir, PQ_NEXT_SEED_FILE)
}

/**
 * The name a retired seed is kept under: the consensus address it signed for (EIP-55; under hybrid
 * the secp256k1 key's, as `validator.retired-<address>.key`; under ml-dsa-65 its `pqAddress`).
 */
export function retiredPqSeedName(address: string): string {
  return `validator.retired-${address}.mldsa.seed`
}

/** Where the ML-DSA seed of the validator whose keys are in `keysDir` lives. */
export function pqSeedPath(keysDir: string): string {
  return join(keysDir, PQ_SEED_FILE)
}

/**
 * Reads the seed at `path` after checking its permissions (0600).
 * @throws CairnError `KEY_FILE_INVALID` when absent or not 32 hex bytes; `KEY_FILE_PERMISSIONS`
 */
export function loadPqSeed(path: string): Uint8Array {
  if (!existsSync(path)) {
    throw new CairnError(
      ConsensusErrorCode.KEY_FILE_INVALID,
      `the chain signs with ML-DSA-65 (hybrid or ml-dsa-65) and ${path} does not exist`,
      {
        fault: 'caller',
        hint: 'a hybrid or ml-dsa-65 validator needs its ML-DSA seed beside validator.key (`cairn devnet init --signature-scheme hybrid|ml-dsa-65` writes one)',
      },
    )
  }
  checkKeyFilePermissions(path, 'ML-DSA seed')
  const text = readFileSync(path, 'utf8').trim().replace(/^0x/, '')
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new CairnError(ConsensusErrorCode.KEY_FILE_INVALID, `ML-DSA seed ${path} is not 32 hex bytes`, {
      fault: 'caller',
      hint: 'restore the file from your key backup',
    })
  }
  return Uint8Array.from(Buffer.from(text, 'hex'))
}

/** Reads the seed at `path`, or creates it from the OS CSPRNG with mode 0600 (atomic rename). */
export function loadOrCreatePqSeed(path: string): Uint8Array {
  if (existsSync(path)) return loadPqSeed(path)
  const seed = Uint8Array.from(randomBytes(32))
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, `${Buffer.from(seed).toString('hex')}\n`, { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, path)
  return seed
}
