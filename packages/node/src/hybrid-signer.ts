/**
 * The in-process signer of a validator on a `hybrid` chain (secp256k1 ‖ ML-DSA-65,
 * docs/consensus/post-quantum.md): `ValidatorSigner` over `hybridDigestKey` — the datadir's
 * secp256k1 key and the ML-DSA key derived from the seed beside it — behind the same signer state;
 * and on an `ml-dsa-65` chain over `mlDsaDigestKey` (the seed alone, {@link mlDsaValidatorSigner}).
 *
 * A remote signer (`cairn signer serve --signature-scheme hybrid|ml-dsa-65 --pq-seed-file …`) is
 * allowed: the client checks each signature under the scheme (engine.ts), and so is an HSM under
 * hybrid (the token signs the secp256k1 part, the seed in the datadir the ML-DSA part:
 * `hsm-signer.ts`). Refused at start, each saying why: an HSM under ml-dsa-65 (a PKCS#11 token
 * has no ML-DSA), a key rotation in progress (the next key has no registered ML-DSA key), and a
 * seed whose public key is not the one the genesis registers for this validator (its votes would
 * all be refused).
 */
import { dirname } from 'node:path'
import { type BftConfig, ConsensusErrorCode, type SignerState, ValidatorSigner } from '@cairn/consensus'
import { hybridDigestKey, mlDsaDigestKey, rawDigestKey } from '@cairn/consensus/pq'
import { bytesToHex, CairnError, equalsBytes, type Logger } from '@cairn/utils'
import type { NodeConfig } from './config/schema.ts'
import { loadPqSeed, pqSeedPath } from './keys/pq-seed-file.ts'
import type { ValidatorKeys } from './keys/validator-rotation.ts'

function refuse(message: string, hint: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_SIGNER_CONFIG, message, { fault: 'caller', hint })
}

/**
 * Refuses a signer backend hybrid does not support yet (before anything connects).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`
 */
export function checkHybridSignerKind(kind: NodeConfig['bft']['signer']['kind']): void {
  checkPqSignerKind(kind, 'hybrid')
}

/**
 * Refuses a signer backend a post-quantum scheme does not support yet (before anything connects):
 * the local signer (the key material in the datadir) and the remote signer (`cairn signer serve`
 * with the ML-DSA seeds) run under `hybrid` and `ml-dsa-65`; an HSM does not (no ML-DSA on PKCS#11).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`
 */
export function checkPqSignerKind(kind: NodeConfig['bft']['signer']['kind'], scheme: 'hybrid' | 'ml-dsa-65'): void {
  if (kind === 'local' || kind === 'remote') return
  // Hybrid on an HSM: the token holds the secp256k1 part, the ML-DSA seed stays in the datadir.
  if (scheme === 'hybrid') return
  throw refuse(
    `bft.signer.kind = "${kind}" is not supported on an ML-DSA-65 chain: a PKCS#11 token holds secp256k1 keys, and an ml-dsa-65 validator signs with ML-DSA alone`,
    'use the local signer (the ML-DSA seed in the datadir) or a remote signer with the seed (`cairn signer serve --signature-scheme ml-dsa-65 --pq-seed-file`): docs/consensus/post-quantum.md',
  )
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

/**
 * The ML-DSA seed beside the validator key (`keys/validator.mldsa.seed`); a key rotation in
 * progress is refused on `chain`, as the next key has no registered ML-DSA key.
 */
function pqSeedOf(keys: ValidatorKeys, chain: string): { seedPath: string; pqSeed: ReturnType<typeof loadPqSeed> } {
  if (keys.next !== null || keys.following !== null) {
    throw refuse(
      `a validator key rotation is not yet supported on ${chain}`,
      'finish or remove the rotation (validator.next.key): the next key has no registered ML-DSA key',
    )
  }
  const seedPath = pqSeedPath(dirname(keys.current.path))
  return { seedPath, pqSeed: loadPqSeed(seedPath) }
}

/**
 * The hybrid signer of the validator whose keys are `keys` (`keys/validator.key` and
 * `keys/validator.mldsa.seed`).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`, `KEY_FILE_INVALID`, `KEY_FILE_PERMISSIONS`
 */
export function hybridValidatorSigner(
  opts: { chainId: bigint; bft: BftConfig; keys: ValidatorKeys },
  modules: { state: SignerState; logger: Logger },
): ValidatorSigner {
  const { keys, bft } = opts
  const { seedPath, pqSeed } = pqSeedOf(keys, 'a hybrid chain')
  const key = hybridDigestKey({ secpKey: rawDigestKey(keys.current.privateKey), pqSeed })
  const { inGenesis } = checkGenesisPqKey(bft, key, seedPath)
  modules.logger.info({ validator: bytesToHex(key.address), inGenesis }, 'bft: signing hybrid (secp256k1 ‖ ML-DSA-65)')
  return new ValidatorSigner({ chainId: opts.chainId, key }, { state: modules.state })
}

/**
 * The signer of the validator whose keys are in `keys`'s directory on an `ml-dsa-65` chain
 * (ML-DSA-65 alone): `ValidatorSigner` over `mlDsaDigestKey` from `keys/validator.mldsa.seed`,
 * known by `pqAddress` of its public key (the secp256k1 `validator.key` beside it does not sign).
 * A key rotation is refused (the next key would need a registered ML-DSA key); a seed whose address
 * is in no genesis entry is logged (`inGenesis: false`): that node signs for no member.
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG`, `KEY_FILE_INVALID`, `KEY_FILE_PERMISSIONS`
 */
export function mlDsaValidatorSigner(
  opts: { chainId: bigint; bft: BftConfig; keys: ValidatorKeys },
  modules: { state: SignerState; logger: Logger },
): ValidatorSigner {
  const { keys, bft } = opts
  const { seedPath, pqSeed } = pqSeedOf(keys, 'an ML-DSA-65 chain')
  const key = mlDsaDigestKey({ pqSeed })
  const entry = bft.validators.find((v) => equalsBytes(v.address, key.address))
  const log = entry === undefined ? modules.logger.warn.bind(modules.logger) : modules.logger.info.bind(modules.logger)
  log(
    { validator: bytesToHex(key.address), inGenesis: entry !== undefined, seed: seedPath },
    entry === undefined
      ? 'bft: signing ML-DSA-65 with a key the genesis does not register (this node is no validator of the set)'
      : 'bft: signing ML-DSA-65',
  )
  return new ValidatorSigner({ chainId: opts.chainId, key }, { state: modules.state })
}
