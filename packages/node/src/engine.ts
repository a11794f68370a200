import { readStoredGenesis } from '@cairn/chain'
import {
  BftEngine,
  type BftEngineModules,
  type BftScheduler,
  ConsensusWal,
  createBftMetrics,
  createStakingMetrics,
  DevEngine,
  type Engine,
  openValidatorSigner,
  resolveBftConfig,
  StakingHooks,
} from '@cairn/consensus'
import type { NextKeyPromotion } from '@cairn/consensus/validator-keys'
import type { KVStore } from '@cairn/db'
import type { DevControls } from '@cairn/rpc'
import { CairnError, hexToBytes, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from './config/schema.ts'
import { NodeErrorCode } from './errors.ts'
import type { NodeKeys } from './keys/node-keys.ts'
import { mineWorkerUrl } from './mine-worker-url.ts'
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
    case 'pow':
      return createPowEngine(config, modules, await genesisOf())
    case 'ghostdag':
      return createGhostdagEngine(config, modules, await genesisOf())
    case 'bft':
      return createBftEngine(config, modules, await genesisOf())
  }
}

/**
 * The BFT engine of `config.cairn.bft`; from `firstHeight` on a chain that ran proof of work
 * before (the PoW → PoS transition), else from block 1.
 */
async function createBftEngine(
  config: NodeConfig,
  modules: EngineModules,
  genesis: unknown,
  transition?: { firstHeight: number; terminalAccepts: BftEngineModules['terminalAccepts'] },
): Promise<BuiltEngine & { engine: BftEngine }> {
  const bft = await resolveBftConfig(genesis)
  const chainId = BigInt((genesis as { config: { chainId: number | string } }).config.chainId)
  const scheme = bft.signatureScheme ?? 'secp256k1'
  // A validator signs with its key (keys.validator), through a remote signer or with a key on
  // an HSM (bft.signer); a node with none follows the commits.
  const validator = await openValidatorSigner(
    config.bft.signer,
    {
      keysDir: modules.keysDir,
      signerStatePath: modules.signerStatePath,
      validator: modules.keys?.validator ?? null,
    },
    { chainId, bft },
    { logger: modules.logger, registry: modules.registry },
  )
  // A validator logs what its machine receives, so a restart rejoins its height where it was.
  const wal =
    validator.signer !== null && modules.walDir
      ? ConsensusWal.open({ dir: modules.walDir, ...(scheme !== 'secp256k1' ? { scheme } : {}) })
      : undefined
  const engine = new BftEngine(
    { chainId, config: bft, ...(transition ? { firstHeight: transition.firstHeight } : {}) },
    {
      logger: modules.logger,
      metrics: modules.registry ? createBftMetrics(modules.registry) : null,
      ...(validator.signer ? { signer: validator.signer } : {}),
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
      // Validators holding different terminal blocks agree on one (the PoW → PoS transition).
      ...(transition?.terminalAccepts ? { terminalAccepts: transition.terminalAccepts } : {}),
      // The testbed's clock skew (config testbed.clockOffsetMs, honoured only with CAIRN_TESTBED=1).
      ...(config.testbed.clockOffsetMs !== 0 ? { scheduler: offsetScheduler(config.testbed.clockOffsetMs) } : {}),
    },
  )
  const promotion = validator.promotion({
    logger: modules.logger,
    validatorsAt: (h: number) => engine.validatorsAt(h),
  })
  const close = validator.close
  return {
    engine,
    dev: null,
    ...(close ? { close } : {}),
    ...(promotion ? { promotion } : {}),
  }
}

/** The proof-of-work engine of `engine = "pow"`, mining when `miner.enabled` (packages/consensus/src/pow). */
async function createPowEngine(config: NodeConfig, modules: EngineModules, genesis: unknown): Promise<BuiltEngine> {
  const { PowEngine, ScheduledEngine, createPowMetrics, parsePowConfig, terminalRule } = await import(
    '@cairn/consensus/pow'
  )
  const params = parsePowConfig(genesis)
  const { miner } = config
  const coinbase = miner.coinbase ? hexToBytes(miner.coinbase as `0x${string}`) : undefined
  const minerWorker = mineWorkerUrl()
  const engine = new PowEngine(
    {
      params,
      mine: miner.enabled,
      threads: miner.threads,
      recommitMs: miner.recommitMs,
      maxReorgDepth: config.pow.maxReorgDepth,
      maxFutureSeconds: config.pow.maxFutureSeconds,
      ...(minerWorker ? { minerWorker } : {}),
      ...(coinbase ? { coinbase } : {}),
      ...(miner.extraData ? { extraData: hexToBytes(miner.extraData as `0x${string}`) } : {}),
    },
    {
      logger: modules.logger,
      metrics: modules.registry
        ? createPowMetrics(modules.registry, miner.coinbase ? { coinbase: miner.coinbase.toLowerCase() } : {})
        : null,
    },
  )
  const transition = params.transition
  if (transition === undefined || !hasBft(genesis)) return { engine, dev: null }
  // PoW → PoS: proof of work below the transition height, BFT from it (docs/consensus/pow.md).
  const bft = await createBftEngine(config, modules, genesis, {
    firstHeight: Number(transition.height),
    terminalAccepts: terminalRule(engine),
  })
  const scheduled = new ScheduledEngine(
    { height: transition.height },
    { before: engine, after: bft.engine, logger: modules.logger },
  )
  return { ...bft, engine: scheduled }
}

/** The GhostDAG engine of `engine = "ghostdag"`, mining when `miner.enabled` (packages/consensus/src/ghostdag/engine). */
async function createGhostdagEngine(
  config: NodeConfig,
  modules: EngineModules,
  genesis: unknown,
): Promise<BuiltEngine> {
  const { GhostdagEngine, createGhostdagMetrics, parseGhostdagConfig } = await import('@cairn/consensus/ghostdag')
  const { miner } = config
  const coinbase = miner.coinbase ? hexToBytes(miner.coinbase as `0x${string}`) : undefined
  const minerWorker = mineWorkerUrl()
  const engine = new GhostdagEngine(
    {
      params: parseGhostdagConfig(genesis),
      mine: miner.enabled,
      threads: miner.threads,
      ...(minerWorker ? { minerWorker } : {}),
      ...(coinbase ? { coinbase } : {}),
    },
    {
      logger: modules.logger,
      metrics: modules.registry
        ? createGhostdagMetrics(modules.registry, miner.coinbase ? { coinbase: miner.coinbase.toLowerCase() } : {})
        : null,
    },
  )
  return { engine, dev: null }
}

function hasBft(genesis: unknown): boolean {
  return (genesis as { config?: { cairn?: { bft?: unknown } } } | undefined)?.config?.cairn?.bft !== undefined
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
export function engineKind(
  configured: 'dev' | 'bft' | 'pow' | 'ghostdag' | undefined,
  genesis: unknown,
): 'dev' | 'bft' | 'pow' | 'ghostdag' {
  const cairn = (
    genesis as
      | { config?: { cairn?: { bft?: unknown; pow?: { transition?: unknown }; ghostdag?: unknown } } }
      | undefined
  )?.config?.cairn
  // A GhostDAG chain carries proof-of-work parameters too (its seal): `ghostdag` names the engine.
  if (cairn?.ghostdag !== undefined || configured === 'ghostdag') {
    if (configured !== undefined && (configured === 'ghostdag') !== (cairn?.ghostdag !== undefined)) {
      throw new CairnError(
        NodeErrorCode.ENGINE_MISMATCH,
        configured === 'ghostdag'
          ? 'engine = ghostdag, but the genesis has no config.cairn.ghostdag (no DAG parameters)'
          : `engine = ${configured}, but the genesis is a GhostDAG chain (config.cairn.ghostdag): this node would refuse its blocks`,
        {
          fault: 'caller',
          hint: 'drop `engine` (and CAIRN_ENGINE): the engine comes from the genesis (cairn devnet init --engine ghostdag writes one)',
        },
      )
    }
    return 'ghostdag'
  }
  // A proof-of-work chain that hands over to BFT (`pow.transition`) runs the pow engine first.
  const fromGenesis =
    cairn?.bft !== undefined && cairn.pow?.transition === undefined ? 'bft' : cairn?.pow !== undefined ? 'pow' : 'dev'
  if (configured === undefined) return fromGenesis
  if ((configured === 'pow') !== (fromGenesis === 'pow')) {
    throw new CairnError(
      NodeErrorCode.ENGINE_MISMATCH,
      configured === 'pow'
        ? 'engine = pow, but the genesis has no config.cairn.pow (no proof-of-work parameters)'
        : `engine = ${configured}, but the genesis is a proof-of-work chain (config.cairn.pow): this node would refuse its blocks`,
      {
        fault: 'caller',
        hint: 'drop `engine` (and CAIRN_ENGINE): the engine comes from the genesis (cairn devnet init --engine pow writes one)',
      },
    )
  }
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
