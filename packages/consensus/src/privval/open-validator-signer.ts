/**
 * The one call a node makes for its validator signer ({@link openValidatorSigner}): from the config's
 * `bft.signer` and the datadir's keys, the {@link ConsensusSigner} the engine signs with — the
 * datadir's key behind its signer state (secp256k1, or hybrid / ML-DSA-65 with the seed beside it:
 * pq-signer.ts), a key on a PKCS#11 token (hsm-signer.ts), or a `cairn signer serve` process
 * (remote-signer.ts) — or none (a follower); what closes it; and the promotion of the next key of a
 * rotation under way (promote-next-key.ts), made once the engine gives the validator sets.
 *
 * Everything that can refuse runs here, before the engine exists: a signer backend the chain's
 * scheme does not support, a half-made rotation, an unreadable TLS file or PIN file, an
 * unreachable signer, an absent token or key, a seed the genesis does not register. Each stops the
 * start saying which (docs/operations/keys.md).
 */
import { readFileSync } from 'node:fs'
import { bytesToHex, CairnError, equalsBytes, errorMessage, hexToBytes, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { BftConfig } from '../bft/bft-config.ts'
import { ConsensusErrorCode } from '../errors.ts'
import { FileSignerState } from './file-signer-state.ts'
import { type HsmPqRotation, openHsmSigner } from './hsm-signer.ts'
import { checkPqSignerKind, checkPqSignerRotation, pqValidatorSigner } from './pq-signer.ts'
import {
  type NextKeyPromotion,
  type NextKeyPromotionModules,
  nextKeyPromotion,
  pqNextKeyPromotion,
} from './promote-next-key.ts'
import type { RemoteSigner } from './remote-signer.ts'
import type { RemoteSignerConfig, ValidatorSignerConfig } from './signer-config.ts'
import { MemorySignerState } from './signer-state.ts'
import type { ValidatorKeys } from './validator-rotation.ts'
import { type ConsensusSigner, ValidatorSigner } from './validator-signer.ts'

/** What the datadir holds for the signer. */
export interface ValidatorDatadir {
  /** `DATADIR/keys` (a hybrid HSM validator's ML-DSA seeds live there); null: no datadir. */
  keysDir: string | null
  /** `DATADIR/keys/validator.state.json`; null: the signer state in memory. */
  signerStatePath: string | null
  /** The validator's key files, loaded (`loadValidatorKeys`); null: none. */
  validator: ValidatorKeys | null
}

/** The chain the signer signs for. */
export interface ValidatorChain {
  chainId: bigint
  bft: BftConfig
}

export interface OpenValidatorSignerModules {
  logger: Logger
  /** Where the remote signer's (`cairn_remote_signer_*`) and the token's (`cairn_hsm_*`) metrics go. */
  registry: Registry | null
}

/** A validator's signer, opened. */
export interface OpenedValidatorSigner {
  /** What the engine signs with; null: this node signs nothing (it follows the commits). */
  signer: ConsensusSigner | null
  /** Closes what the signer holds outside the process (the remote signer's connection, the token); null: nothing. Call after the engine stops. */
  close: (() => void) | null
  /** The promotion of the next key of a rotation under way (null: none), once the engine exists. */
  promotion(modules: NextKeyPromotionModules): NextKeyPromotion | null
}

/**
 * Opens the validator signer `config` names for the chain `chain`, with the keys of `datadir`.
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG` (a setup the signer or the scheme refuses),
 *   `CONSENSUS_BFT_SIGNER_UNAVAILABLE` (a remote signer unreachable), `KEYS_HSM_*` (the token),
 *   `KEY_FILE_INVALID` / `KEY_FILE_PERMISSIONS` (a seed file)
 */
export async function openValidatorSigner(
  config: ValidatorSignerConfig,
  datadir: ValidatorDatadir,
  chain: ValidatorChain,
  modules: OpenValidatorSignerModules,
): Promise<OpenedValidatorSigner> {
  const { chainId, bft } = chain
  const scheme = bft.signatureScheme ?? 'secp256k1'
  // Post-quantum schemes: the local signer (the ML-DSA seed in the datadir), a remote signer
  // holding the seed, or (hybrid only) an HSM for the secp256k1 part beside the datadir's seed.
  if (scheme !== 'secp256k1') {
    checkPqSignerKind(config.kind, scheme)
    checkPqSignerRotation(config, scheme, datadir.keysDir)
  }
  if (config.kind === 'remote') {
    const signer = await connectRemoteSigner(config, chain, datadir, modules)
    return {
      signer,
      close: () => signer.close(),
      promotion: (m) => nextKeyPromotion(config, { local: undefined, external: signer, hsmPqSeeds: null }, m),
    }
  }
  if (config.kind === 'hsm') {
    const hsm = await openHsmSigner(
      config,
      chainId,
      {
        logger: modules.logger,
        registry: modules.registry,
        signerStatePath: datadir.signerStatePath,
        datadirKey: datadir.validator?.current.address,
      },
      scheme === 'hybrid' ? { keysDir: hsmKeysDir(datadir.keysDir), bft } : undefined,
    )
    const pqRotation: HsmPqRotation | null = hsm.pqRotation
    return {
      signer: hsm.signer,
      close: hsm.close,
      promotion: (m) => nextKeyPromotion(config, { local: undefined, external: hsm.signer, hsmPqSeeds: pqRotation }, m),
    }
  }
  // The datadir's key; a node without one follows the commits.
  const keys = datadir.validator
  if (keys === null) return { signer: null, close: null, promotion: () => null }
  const state = datadir.signerStatePath
    ? new FileSignerState({ path: datadir.signerStatePath })
    : new MemorySignerState()
  if (scheme !== 'secp256k1') {
    // Hybrid (secp256k1 ‖ ML-DSA-65): the datadir's key and the ML-DSA seed beside it; ml-dsa-65:
    // the seed alone (the validator is known by pqAddress of its key). A rotation under way: the
    // next key (and seed) beside them, each height signed with the one in its set.
    const pq = pqValidatorSigner(scheme, { chainId, bft, keys }, { state, logger: modules.logger })
    return { signer: pq.signer, close: null, promotion: (m) => pqNextKeyPromotion(scheme, pq.rotation, m) }
  }
  // A key rotation in progress: the engine signs each height with the key in its set.
  const nextPrivateKeys = [keys.following, keys.next?.key].filter((k) => k != null).map((k) => k.privateKey)
  const signer = new ValidatorSigner(
    {
      chainId,
      privateKey: keys.current.privateKey,
      ...(nextPrivateKeys.length > 0 ? { nextPrivateKeys } : {}),
    },
    { state },
  )
  return {
    signer,
    close: null,
    promotion: (m) => nextKeyPromotion(config, { local: keys, external: undefined, hsmPqSeeds: null }, m),
  }
}

/**
 * The remote signer of `bft.signer` (kind remote), connected: an unreadable TLS file, an
 * unreachable signer, another chain or an absent key stops the start here, saying which.
 */
async function connectRemoteSigner(
  s: RemoteSignerConfig,
  chain: ValidatorChain,
  datadir: ValidatorDatadir,
  modules: OpenValidatorSignerModules,
): Promise<RemoteSigner> {
  const { chainId, bft } = chain
  const scheme = bft.signatureScheme ?? 'secp256k1'
  const { RemoteSigner, createRemoteSignerMetrics } = await import('./remote-signer.ts')
  const pem = (field: 'ca' | 'cert' | 'key') => {
    try {
      return readFileSync(s[field], 'utf8')
    } catch (err) {
      throw new CairnError(
        ConsensusErrorCode.BFT_SIGNER_CONFIG,
        `config bft.signer.${field}: cannot read ${s[field]}: ${errorMessage(err)}`,
        { fault: 'caller', hint: 'point it at a readable PEM file (docs/operations/keys.md)' },
      )
    }
  }
  if (datadir.validator) {
    modules.logger.warn(
      { key: datadir.validator.current.address },
      'bft.signer is remote: the validator key in the datadir is not used (move it off this machine)',
    )
  }
  const signer = await RemoteSigner.connect(
    {
      chainId,
      url: s.url,
      tls: { ca: pem('ca'), cert: pem('cert'), key: pem('key') },
      ...(s.address ? { address: hexToBytes(s.address) } : {}),
      ...(s.nextAddress ? { nextAddresses: [hexToBytes(s.nextAddress)] } : {}),
      timeoutMs: s.timeoutMs,
      // Under hybrid and ml-dsa-65 each signature is verified against the ML-DSA key of its height's
      // set: the engine gives the client the sets when it is built (followValidatorSets), so a
      // validator that joined through staking, or a key it rotated to, is checked against the key
      // the chain registered. The genesis's keys check the signer at connect (before the engine
      // exists) and are the fallback for an address a set does not hold.
      ...(scheme !== 'secp256k1'
        ? {
            scheme,
            pqPublicKeyOf: (address: Uint8Array) =>
              bft.validators.find((v) => equalsBytes(v.address, address))?.pqPublicKey ?? null,
          }
        : {}),
    },
    {
      logger: modules.logger.child({ module: 'remote-signer' }),
      metrics: modules.registry ? createRemoteSignerMetrics(modules.registry) : null,
    },
  )
  modules.logger.info({ url: s.url, validator: bytesToHex(signer.address) }, 'remote signer connected')
  return signer
}

/**
 * Where a hybrid HSM validator's ML-DSA seeds live: the datadir's `keys/` (`validator.mldsa.seed`,
 * and `validator.next.mldsa.seed` during a rotation).
 * @throws CairnError `CONSENSUS_BFT_SIGNER_CONFIG` without a datadir (nowhere to keep the seed)
 */
function hsmKeysDir(keysDir: string | null): string {
  if (keysDir === null) {
    throw new CairnError(
      ConsensusErrorCode.BFT_SIGNER_CONFIG,
      'a hybrid validator on an HSM needs a datadir: its ML-DSA seed is kept there (keys/validator.mldsa.seed)',
      { fault: 'caller', hint: 'start without --ephemeral, with --datadir' },
    )
  }
  return keysDir
}
