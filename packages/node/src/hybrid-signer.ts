/**
 * The in-process signer of a validator on a `hybrid` chain (secp256k1 ‖ ML-DSA-65,
 * docs/consensus/post-quantum.md): `ValidatorSigner` over `hybridDigestKey` — the datadir's
 * secp256k1 key and the ML-DSA key derived from the seed beside it — behind the same signer state.
 *
 * Refused at start, each saying why: a remote signer or an HSM (their clients check 65-byte
 * signatures only: not yet supported under hybrid), a key rotation in progress (the next key has
 * no registered ML-DSA key), and a seed whose public key is not the one the genesis registers for
 * this validator (its votes would all be refused).
 */
import { dirname } from 'node:path'
import { type BftConfig, ConsensusErrorCode, type SignerState, ValidatorSigner } from '@cairn/consensus'
import { hybridDigestKey, rawDigestKey } from '@cairn/consensus/pq'
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
  if (kind !== 'local') {
    throw refuse(
      `bft.signer.kind = "${kind}" is not yet supported on a hybrid chain (secp256k1 ‖ ML-DSA-65)`,
      'use the local signer (the key and ML-DSA seed in the datadir): docs/consensus/post-quantum.md',
    )
  }
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
  if (keys.next !== null || keys.following !== null) {
    throw refuse(
      'a validator key rotation is not yet supported on a hybrid chain',
      'finish or remove the rotation (validator.next.key): the next key has no registered ML-DSA key',
    )
  }
  const seedPath = pqSeedPath(dirname(keys.current.path))
  const key = hybridDigestKey({ secpKey: rawDigestKey(keys.current.privateKey), pqSeed: loadPqSeed(seedPath) })
  const entry = bft.validators.find((v) => equalsBytes(v.address, key.address))
  if (entry?.pqPublicKey !== undefined && !equalsBytes(entry.pqPublicKey, key.pqPublicKey as Uint8Array)) {
    throw refuse(
      `the ML-DSA key of ${seedPath} is not the one the genesis registers for validator ${bytesToHex(key.address)}`,
      'restore the seed that matches config.cairn.bft.validators[].pqPublicKey',
    )
  }
  modules.logger.info(
    { validator: bytesToHex(key.address), inGenesis: entry !== undefined },
    'bft: signing hybrid (secp256k1 ‖ ML-DSA-65)',
  )
  return new ValidatorSigner({ chainId: opts.chainId, key }, { state: modules.state })
}
