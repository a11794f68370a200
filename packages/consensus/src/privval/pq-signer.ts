/**
 * The in-process signer of a validator on a `hybrid` chain (secp256k1 ‖ ML-DSA-65,
 * docs/consensus/post-quantum.md): `ValidatorSigner` over `hybridDigestKey` — the datadir's
 * secp256k1 key and the ML-DSA key derived from the seed beside it — behind the same signer state;
 * and on an `ml-dsa-65` chain over `mlDsaDigestKey` (the seed alone, {@link mlDsaValidatorSigner}).
 *
 * A remote signer (`cairn signer serve --signature-scheme hybrid|ml-dsa-65 --pq-seed-file …`) is
 * allowed: the client checks each signature under the scheme (remote-signer.ts), and so is an HSM under
 * hybrid (the token signs the secp256k1 part, the seed in the datadir the ML-DSA part:
 * `hsm-signer.ts`). Refused at start, each saying why: an HSM under ml-dsa-65 (a PKCS#11 token
 * has no ML-DSA), and a seed whose public key is not the one the genesis registers for this
 * validator (its votes would all be refused).
 *
 * A consensus key rotation (`cairn staking rotate-key`, docs/operations/keys.md) is followed as
 * under secp256k1: the signer holds the next key beside the current one and signs each height with
 * the one in its set. So does a remote signer holding both keys with their seeds (`nextAddress`;
 * the client checks each signature against the ML-DSA key of that height's set), and under hybrid
 * an HSM (`nextKey` paired with `validator.next.mldsa.seed`, hsm-pq-seeds.ts). Under hybrid
 * the local next key is `validator.next.key` with the next seed `validator.next.mldsa.seed`;
 * under ml-dsa-65 the next seed alone (the validator is its `pqAddress`; `validator.key` is the
 * operator's account and is not rotated). Refused: a
 * height-scheduled rotation (`validator.rotation.json`: a fixed set takes no new ML-DSA key), and a
 * half-made pair (a next key without its next seed, or the reverse, under hybrid; a next
 * `validator.next.key` under ml-dsa-65).
 */
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { toChecksumAddress } from '@cairn/crypto'
import { rawDigestKey } from '@cairn/keys'
import { bytesToHex, CairnError, equalsBytes, type Logger } from '@cairn/utils'
import type { BftConfig } from '../bft/bft-config.ts'
import { ConsensusErrorCode } from '../errors.ts'
import { checkHsmPqSeedFiles } from './hsm-pq-seeds.ts'
import { hybridDigestKey, mlDsaDigestKey, type SchemeDigestKey } from './pq-digest-key.ts'
import { loadPqSeed, pqNextSeedPath, pqSeedPath } from './pq-seed-file.ts'
import type { ValidatorSignerConfig } from './signer-config.ts'
import type { SignerState } from './signer-state.ts'
import type { ValidatorKeys } from './validator-rotation.ts'
import { ValidatorSigner } from './validator-signer.ts'

function refuse(message: string, hint: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, message, { fault: 'caller', hint })
}

/**
 * Refuses a signer backend hybrid does not support yet (before anything connects).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`
 */
export function checkHybridSignerKind(kind: ValidatorSignerConfig['kind']): void {
  checkPqSignerKind(kind, 'hybrid')
}

/**
 * Refuses a signer backend a post-quantum scheme does not support yet (before anything connects):
 * the local signer (the key material in the datadir) and the remote signer (`cairn signer serve`
 * with the ML-DSA seeds) run under `hybrid` and `ml-dsa-65`; an HSM does not (no ML-DSA on PKCS#11).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`
 */
export function checkPqSignerKind(kind: ValidatorSignerConfig['kind'], scheme: 'hybrid' | 'ml-dsa-65'): void {
  if (kind === 'local' || kind === 'remote') return
  // Hybrid on an HSM: the token holds the secp256k1 part, the ML-DSA seed stays in the datadir.
  if (scheme === 'hybrid') return
  throw refuse(
    `bft.signer.kind = "${kind}" is not supported on an ML-DSA-65 chain: a PKCS#11 token holds secp256k1 keys, and an ml-dsa-65 validator signs with ML-DSA alone`,
    'use the local signer (the ML-DSA seed in the datadir) or a remote signer with the seed (`cairn signer serve --signature-scheme ml-dsa-65 --pq-seed-file`): docs/consensus/post-quantum.md',
  )
}

/**
 * Refuses, before anything connects, a key rotation a signer cannot follow on a post-quantum chain,
 * naming what is missing. A remote signer follows one (`nextAddress`: the signer holds the next key
 * with its seed, and the client checks each signature against the ML-DSA key of the height's set),
 * and so does an HSM under hybrid when `nextKey` has its seed, `validator.next.mldsa.seed` in
 * `keysDir`: refused are `nextKey` without it and the seed without `nextKey` (an HSM under ml-dsa-65
 * is refused by {@link checkPqSignerKind}).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`
 */
export function checkPqSignerRotation(
  signer: ValidatorSignerConfig,
  scheme: 'hybrid' | 'ml-dsa-65',
  keysDir: string | null,
): void {
  if (signer.kind !== 'hsm' || scheme !== 'hybrid' || keysDir === null) return
  checkHsmPqSeedFiles(keysDir, signer.nextKey)
}

/**
 * Refuses a hybrid key whose ML-DSA public key is not the one the genesis registers for its
 * address (its votes would all be refused); an address the genesis does not hold passes (a node
 * that signs for no member of the set).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`
 */
export function checkGenesisPqKey(
  bft: BftConfig,
  key: { address: Uint8Array; pqPublicKey?: Uint8Array | null | undefined },
  seedPath: string,
): { inGenesis: boolean } {
  const entry = bft.validators.find((v) => equalsBytes(v.address, key.address))
  if (entry?.pqPublicKey !== undefined && !equalsBytes(entry.pqPublicKey, key.pqPublicKey as Uint8Array)) {
    throw refuse(
      `the ML-DSA key of ${seedPath} is not the one the genesis registers for validator ${bytesToHex(key.address)}`,
      'restore the seed that matches config.cairn.bft.validators[].pqPublicKey',
    )
  }
  return { inGenesis: entry !== undefined }
}

/** A PQ validator's signer, and the rotation it follows (null: none under way). */
export interface PqValidatorSigner {
  signer: ValidatorSigner
  /**
   * The rotation's consensus addresses for the promotion (promote-next-key.ts `pqNextKeyPromotion`):
   * hybrid the keys', ml-dsa-65 the seeds' `pqAddress`; `keysDir` holds the files.
   */
  rotation: { keysDir: string; current: string; next: string } | null
}

/**
 * The signer of the validator whose keys are `keys` on a `scheme` chain (hybrid:
 * `keys/validator.key` ‖ `keys/validator.mldsa.seed`; ml-dsa-65: the seed alone), holding the next
 * key of a rotation under way (see the module comment).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`, `KEY_FILE_INVALID`, `KEY_FILE_PERMISSIONS`
 */
export function pqValidatorSigner(
  scheme: 'hybrid' | 'ml-dsa-65',
  opts: { chainId: bigint; bft: BftConfig; keys: ValidatorKeys },
  modules: { state: SignerState; logger: Logger },
): PqValidatorSigner {
  const { keys, bft } = opts
  const chain = scheme === 'hybrid' ? 'a hybrid chain' : 'an ML-DSA-65 chain'
  if (keys.next !== null) {
    throw refuse(
      `a height-scheduled validator key rotation (validator.rotation.json) is not supported on ${chain}: a fixed validator set takes no new ML-DSA key`,
      'remove validator.rotation.json and validator.next.key; on a chain with staking rotate with `cairn staking rotate-key` (docs/operations/keys.md)',
    )
  }
  const keysDir = dirname(keys.current.path)
  const seedPath = pqSeedPath(keysDir)
  const nextSeedPath = pqNextSeedPath(keysDir)
  const nextSeed = existsSync(nextSeedPath)
  if (scheme === 'hybrid' && (keys.following !== null) !== nextSeed) {
    throw refuse(
      keys.following !== null
        ? `validator.next.key (${keys.following.address}) has no ML-DSA seed beside it (${nextSeedPath}): on a hybrid chain the next key is the pair`
        : `${nextSeedPath} has no validator.next.key beside it: on a hybrid chain the next key is the pair`,
      '`cairn staking rotate-key` makes both before it sends the rotation; remove the one left to cancel a rotation that was never sent',
    )
  }
  if (scheme === 'ml-dsa-65' && keys.following !== null) {
    throw refuse(
      `validator.next.key (${keys.following.address}) is not a consensus key on an ML-DSA-65 chain: a rotation there is of the ML-DSA seed alone (${nextSeedPath})`,
      'remove validator.next.key (validator.key is the operator account and stays); `cairn staking rotate-key --new-pq-seed-file` makes the next seed',
    )
  }
  const pqSeed = loadPqSeed(seedPath)
  const key =
    scheme === 'hybrid'
      ? hybridDigestKey({ secpKey: rawDigestKey(keys.current.privateKey), pqSeed })
      : mlDsaDigestKey({ pqSeed })
  const inGenesis = checkPqGenesisEntry(scheme, bft, key, seedPath, modules.logger)
  let next: SchemeDigestKey | null = null
  if (nextSeed) {
    const seed = loadPqSeed(nextSeedPath)
    next =
      scheme === 'hybrid'
        ? hybridDigestKey({
            secpKey: rawDigestKey((keys.following as NonNullable<typeof keys.following>).privateKey),
            pqSeed: seed,
          })
        : mlDsaDigestKey({ pqSeed: seed })
    if (equalsBytes(next.pqPublicKey as Uint8Array, key.pqPublicKey as Uint8Array)) {
      throw refuse(
        `${nextSeedPath} is the same seed as ${seedPath}`,
        'a rotation needs a new ML-DSA seed: remove validator.next.mldsa.seed and run `cairn staking rotate-key` again',
      )
    }
  }
  const address = (a: Uint8Array) => toChecksumAddress(bytesToHex(a))
  modules.logger.info(
    {
      validator: address(key.address),
      inGenesis,
      ...(next ? { next: address(next.address), nextSeed: nextSeedPath } : {}),
    },
    scheme === 'hybrid' ? 'bft: signing hybrid (secp256k1 ‖ ML-DSA-65)' : 'bft: signing ML-DSA-65',
  )
  const signer = new ValidatorSigner(
    { chainId: opts.chainId, key, ...(next ? { nextKeys: [next] } : {}) },
    { state: modules.state },
  )
  return {
    signer,
    rotation: next === null ? null : { keysDir, current: address(key.address), next: address(next.address) },
  }
}

/** Checks the key against the genesis (hybrid: refused when registered otherwise); whether the genesis holds it. */
function checkPqGenesisEntry(
  scheme: 'hybrid' | 'ml-dsa-65',
  bft: BftConfig,
  key: SchemeDigestKey,
  seedPath: string,
  logger: Logger,
): boolean {
  if (scheme === 'hybrid') return checkGenesisPqKey(bft, key, seedPath).inGenesis
  const inGenesis = bft.validators.some((v) => equalsBytes(v.address, key.address))
  if (!inGenesis) {
    logger.warn(
      { validator: bytesToHex(key.address), seed: seedPath },
      'bft: signing ML-DSA-65 with a key the genesis does not register (this node is no validator of the genesis set)',
    )
  }
  return inGenesis
}

/**
 * The hybrid signer of the validator whose keys are `keys` (`keys/validator.key` and
 * `keys/validator.mldsa.seed`, with the next pair of a rotation under way).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`, `KEY_FILE_INVALID`, `KEY_FILE_PERMISSIONS`
 */
export function hybridValidatorSigner(
  opts: { chainId: bigint; bft: BftConfig; keys: ValidatorKeys },
  modules: { state: SignerState; logger: Logger },
): ValidatorSigner {
  return pqValidatorSigner('hybrid', opts, modules).signer
}

/**
 * The signer of the validator whose keys are in `keys`'s directory on an `ml-dsa-65` chain
 * (ML-DSA-65 alone): `ValidatorSigner` over `mlDsaDigestKey` from `keys/validator.mldsa.seed`,
 * known by `pqAddress` of its public key (the secp256k1 `validator.key` beside it does not sign),
 * with `validator.next.mldsa.seed` during a rotation. A seed whose address is in no genesis entry
 * is logged (`inGenesis: false`): that node signs for no member of the genesis set.
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`, `KEY_FILE_INVALID`, `KEY_FILE_PERMISSIONS`
 */
export function mlDsaValidatorSigner(
  opts: { chainId: bigint; bft: BftConfig; keys: ValidatorKeys },
  modules: { state: SignerState; logger: Logger },
): ValidatorSigner {
  return pqValidatorSigner('ml-dsa-65', opts, modules).signer
}
