import { readFileSync } from 'node:fs'
import { readStoredGenesis } from '@cairn/chain'
import {
  type BftConfig,
  BftEngine,
  type BftScheduler,
  ConsensusErrorCode,
  type ConsensusSigner,
  ConsensusWal,
  createBftMetrics,
  createStakingMetrics,
  DevEngine,
  type Engine,
  FileSignerState,
  MemorySignerState,
  resolveBftConfig,
  type SignerState,
  StakingHooks,
} from '@cairn/consensus'
import type { RemoteSigner } from '@cairn/consensus/privval'
import type { KVStore } from '@cairn/db'
import type { DevControls } from '@cairn/rpc'
import { bytesToHex, CairnError, equalsBytes, errorMessage, hexToBytes, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from './config/schema.ts'
import { NodeErrorCode } from './errors.ts'
import { type HsmPqRotation, openHsmSigner } from './hsm-signer.ts'
import { checkPqSignerKind, checkPqSignerRotation, pqValidatorSigner } from './hybrid-signer.ts'
import type { NodeKeys } from './keys/node-keys.ts'
import { type NextKeyPromotion, nextKeyPromotion, pqNextKeyPromotion } from './keys/promote-next-key.ts'
import { VERSION } from './version.ts'

/** The engine the config names, and the dev controls it offers (null when it offers none). */
export interface BuiltEngine {
  engine: Engine
  dev: DevControls | null
  /** Closes what the engine holds outside the process (the remote signer's connection, the HSM token); call after it stops. */
  close?: () => void
  /** A key rotation under way: promotes the next key once the chain took it (`follow` it once started). */
  promotion?: NextKeyPromotion
}

export interface EngineModules {
  logger: Logger
  /** The genesis the node starts from (undefined: the datadir's stored one, read from `kv`). */
  genesis: unknown
  kv: KVStore
  /** The node's keys (null: ephemeral, no datadir). */
  keys: NodeKeys | null
  /** The datadir's keys directory (`DATADIR/keys`: the hybrid ML-DSA seed of an HSM validator); null: none. */
  keysDir: string | null
  /** Where the validator's signer state lives (`DATADIR/keys/validator.state.json`); null: in memory. */
  signerStatePath: string | null
  /** Where the engine's metrics go (`cairn_bft_*`). */
  registry: Registry | null
  /** The consensus WAL's directory (`DATADIR/consensus-wal`); null: none (ephemeral). */
  walDir: string | null
  /** The node must stop: the chain reached a scheduled upgrade this build does not know. */
  onHalt?: (err: CairnError) => void
}

/**
 * Builds the engine `config.engine` names, once, before the chain opens: the chain is opened with
 * it as its rules, then `engine.attach({ chain, pool })` (two phases, as the chain must exist
 * before the engine can produce on it).
 */
export async function createEngine(config: NodeConfig, modules: EngineModules): Promise<BuiltEngine> {
  const genesisOf = async () => modules.genesis ?? (await readStoredGenesis(modules.kv)).stored
  switch (engineKind(config.engine, await genesisOf())) {
    case 'dev': {
      // Anvil's coinbase is the zero address: tips do not move the dev accounts' balances, so
      // tests that compute balances from receipts hold against both.
      const engine = new DevEngine(
        {
          blockTime: config.blockTime,
          coinbase: new Uint8Array(20),
          automineBatch: config.automineBatch,
        },
        { logger: modules.logger },
      )
      return { engine, dev: config.dev ? engine : null }
    }
    case 'bft': {
      const genesis = await genesisOf()
      const bft = await resolveBftConfig(genesis)
      const chainId = BigInt((genesis as { config: { chainId: number | string } }).config.chainId)
      // A validator signs with its key (keys.validator), through a remote signer or with a key on
      // an HSM (bft.signer); a node with none follows the commits.
      const signerConfig = config.bft.signer
      const scheme = bft.signatureScheme ?? 'secp256k1'
      const hybrid = scheme === 'hybrid'
      // Post-quantum schemes: the local signer (the ML-DSA seed in the datadir), a remote signer
      // holding the seed, or (hybrid only) an HSM for the secp256k1 part beside the datadir's seed.
      if (scheme !== 'secp256k1') {
        checkPqSignerKind(signerConfig.kind, scheme)
        checkPqSignerRotation(signerConfig, scheme, modules.keysDir)
      }
      const external: { signer: ConsensusSigner; close: () => void; pqRotation?: HsmPqRotation | null } | null =
        signerConfig.kind === 'remote'
          ? await connectRemoteSigner(signerConfig, { chainId, bft }, modules).then((r) => ({
              signer: r,
              close: () => r.close(),
            }))
          : signerConfig.kind === 'hsm'
            ? await openHsmSigner(
                signerConfig,
                chainId,
                {
                  logger: modules.logger,
                  registry: modules.registry,
                  signerStatePath: modules.signerStatePath,
                  datadirKey: modules.keys?.validator?.current.address,
                },
                hybrid ? { keysDir: hsmKeysDir(modules.keysDir), bft } : undefined,
              )
            : null
      const key = external ? undefined : modules.keys?.validator?.current.privateKey
      // A key rotation in progress: the engine signs each height with the key in its set.
      const validatorKeys = external ? undefined : modules.keys?.validator
      const nextKeys = [validatorKeys?.following, validatorKeys?.next?.key]
        .filter((k) => k != null)
        .map((k) => k.privateKey)
      const signerState: SignerState | undefined =
        key === undefined
          ? undefined
          : modules.signerStatePath
            ? new FileSignerState({ path: modules.signerStatePath })
            : new MemorySignerState()
      // A validator logs what its machine receives, so a restart rejoins its height where it was.
      const wal =
        (key !== undefined || external !== null) && modules.walDir
          ? ConsensusWal.open({ dir: modules.walDir, ...(scheme !== 'secp256k1' ? { scheme } : {}) })
          : undefined
      // Hybrid (secp256k1 ‖ ML-DSA-65): the datadir's key and the ML-DSA seed beside it;
      // ml-dsa-65: the seed alone (the validator is known by pqAddress of its key). A rotation
      // under way: the next key (and seed) beside them, each height signed with the one in its set.
      const pq =
        scheme !== 'secp256k1' && key !== undefined && signerState !== undefined && validatorKeys
          ? pqValidatorSigner(
              scheme,
              { chainId, bft, keys: validatorKeys },
              { state: signerState, logger: modules.logger },
            )
          : undefined
      const pqSigner = pq?.signer
      const engine = new BftEngine(
        {
          chainId,
          config: bft,
          ...(key !== undefined && !pqSigner ? { privateKey: key } : {}),
          ...(key !== undefined && !pqSigner && nextKeys.length > 0 ? { nextPrivateKeys: nextKeys } : {}),
        },
        {
          logger: modules.logger,
          metrics: modules.registry ? createBftMetrics(modules.registry) : null,
          ...(signerState ? { signerState } : {}),
          ...(external ? { signer: external.signer } : pqSigner ? { signer: pqSigner } : {}),
          ...(wal ? { wal } : {}),
          // Proof of stake: rewards, slashing and the set from the staking contract (docs/consensus/staking.md).
          ...(bft.staking
            ? {
                staking: new StakingHooks(
                  { skipUpgrades: config.unsafeSkipUpgrades, version: VERSION },
                  {
                    logger: modules.logger.child({ module: 'staking' }),
                    metrics: modules.registry ? createStakingMetrics(modules.registry) : null,
                    ...(modules.onHalt ? { onHalt: modules.onHalt } : {}),
                  },
                ),
              }
            : {}),
          // The testbed's clock skew (config testbed.clockOffsetMs, honoured only with CAIRN_TESTBED=1).
          ...(config.testbed.clockOffsetMs !== 0 ? { scheduler: offsetScheduler(config.testbed.clockOffsetMs) } : {}),
        },
      )
      const promotionModules = { logger: modules.logger, validatorsAt: (h: number) => engine.validatorsAt(h) }
      const promotion =
        pq !== undefined && scheme !== 'secp256k1'
          ? pqNextKeyPromotion(scheme, pq.rotation, promotionModules)
          : nextKeyPromotion(
              signerConfig,
              { local: validatorKeys, external: external?.signer, hsmPqSeeds: external?.pqRotation ?? null },
              promotionModules,
            )
      return {
        engine,
        dev: null,
        ...(external ? { close: () => external.close() } : {}),
        ...(promotion ? { promotion } : {}),
      }
    }
  }
}

/**
 * The remote signer of `bft.signer` (kind remote), connected: an unreadable TLS file, an
 * unreachable signer, another chain or an absent key stops the start here, saying which.
 */
async function connectRemoteSigner(
  s: Extract<NodeConfig['bft']['signer'], { kind: 'remote' }>,
  chain: { chainId: bigint; bft: BftConfig },
  modules: EngineModules,
): Promise<RemoteSigner> {
  const { chainId, bft } = chain
  const scheme = bft.signatureScheme ?? 'secp256k1'
  const { RemoteSigner, createRemoteSignerMetrics } = await import('@cairn/consensus/privval')
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
  if (modules.keys?.validator) {
    modules.logger.warn(
      { key: modules.keys.validator.current.address },
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

/** The real scheduler with its clock `offsetMs` off the wall clock (the testbed's clock skew). */
function offsetScheduler(offsetMs: number): BftScheduler {
  return {
    now: () => Date.now() + offsetMs,
    setTimeout: (fn, ms) => {
      setTimeout(fn, ms).unref?.()
    },
  }
}

/**
 * The engine a node runs: the one its genesis names (`bft` when it has `config.cairn.bft`, else
 * `dev`), or `configured` (config `engine`, CAIRN_ENGINE) when set, which must agree with the
 * genesis: a `dev` node on a BFT genesis would refuse every block its validators commit.
 */
export function engineKind(configured: 'dev' | 'bft' | undefined, genesis: unknown): 'dev' | 'bft' {
  const cairn = (genesis as { config?: { cairn?: { bft?: unknown } } } | undefined)?.config?.cairn
  const fromGenesis = cairn?.bft !== undefined ? 'bft' : 'dev'
  if (configured === undefined) return fromGenesis
  if (configured === 'dev' && fromGenesis === 'bft') {
    throw new CairnError(
      NodeErrorCode.ENGINE_MISMATCH,
      'engine = dev, but the genesis names BFT validators (config.cairn.bft): this node would refuse their blocks',
      {
        fault: 'caller',
        hint: 'drop `engine` (and CAIRN_ENGINE): the engine comes from the genesis; or set engine = bft',
      },
    )
  }
  if (configured === 'bft' && fromGenesis === 'dev') {
    throw new CairnError(
      NodeErrorCode.ENGINE_MISMATCH,
      'engine = bft, but the genesis has no config.cairn.bft (no validators to follow)',
      {
        fault: 'caller',
        hint: "start from the network's genesis (--genesis FILE) with config.cairn.bft.validators (docs/consensus/bft.md), or drop `engine`",
      },
    )
  }
  return configured
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
