import { join } from 'node:path'
import type { Chain } from '@cairn/chain'
import type { Engine, EngineCapabilities } from '@cairn/consensus'
import type { NextKeyPromotion } from '@cairn/consensus/validator-keys'
import type { KVStore } from '@cairn/db'
import type { DevControls } from '@cairn/rpc'
import type { Shutdown } from '@cairn/service-kit'
import type { CairnError, Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from '../config/schema.ts'
import type { DatadirLayout } from '../datadir.ts'
import { createEngine } from '../engine.ts'
import type { NodeKeys } from '../keys/node-keys.ts'

/** The consensus engine, built before the chain opens (the chain takes it as its rules). */
export interface EngineModule {
  engine: Engine
  /** What the engine asks of the node (its declaration, or a plain producer's). */
  capabilities: EngineCapabilities
  /** Dev-chain controls; null when the engine offers none. */
  dev: DevControls | null
  /** A key rotation under way, followed once the engine runs. */
  promotion: NextKeyPromotion | undefined
  /** Settles when the chain reached a scheduled upgrade this build does not know; never otherwise. */
  halted: Promise<CairnError>
}

/** An engine that declares nothing: heads announced, running only to produce, nothing else asked. */
const PLAIN_PRODUCER: EngineCapabilities = { announcesHeads: true, alwaysRuns: false }

/**
 * Builds the engine `config.engine` (or the genesis) names. A new engine is a new case in
 * `createEngine` (../engine.ts) and declares its {@link EngineCapabilities}; nothing here changes.
 */
export async function openEngine(
  config: NodeConfig,
  modules: {
    logger: Logger
    shutdown: Shutdown
    genesis: unknown
    kv: KVStore
    nodeKeys: NodeKeys | null
    datadir: DatadirLayout | null
    registry: Registry
  },
): Promise<EngineModule> {
  const { datadir } = modules
  let halt: (err: CairnError) => void = () => {}
  const halted = new Promise<CairnError>((resolve) => {
    halt = resolve
  })
  const { engine, dev, close, promotion } = await createEngine(config, {
    onHalt: (err) => halt(err),
    logger: modules.logger.child({ module: 'engine' }),
    genesis: modules.genesis,
    kv: modules.kv,
    keys: modules.nodeKeys,
    keysDir: datadir ? join(datadir.root, 'keys') : null,
    signerStatePath: datadir ? join(datadir.root, 'keys', 'validator.state.json') : null,
    walDir: datadir ? join(datadir.root, 'consensus-wal') : null,
    registry: modules.registry,
  })
  // The remote signer's connection closes after the engine stops (shutdown runs in reverse).
  if (close) modules.shutdown.add('remote signer', async () => close())
  return { engine, capabilities: engine.capabilities ?? PLAIN_PRODUCER, dev, promotion, halted }
}

/**
 * The engine runs on this node: one that always runs (a BFT validator votes, any other node
 * follows the commits), or a producer told to mine (`mining`, not a follower).
 */
export function engineRuns(config: NodeConfig, engine: EngineModule): boolean {
  return engine.capabilities.alwaysRuns || (config.mining && !config.follow)
}

/** Starts the engine when it runs here (stopped first at shutdown), and follows a key rotation under way. */
export async function startEngine(
  config: NodeConfig,
  engine: EngineModule,
  modules: { chain: Chain; logger: Logger; shutdown: Shutdown },
): Promise<void> {
  const { shutdown } = modules
  if (config.follow) modules.logger.info('follower: producing nothing, following the chain of peers')
  if (!engineRuns(config, engine)) {
    modules.logger.info('block production off (mining = false): the head moves only by import')
    return
  }
  await engine.engine.start()
  shutdown.add('engine', () => engine.engine.stop())
  // A key rotation under way: the next key is promoted once the chain has taken it (now, or at a new head).
  const stopPromotion = engine.promotion?.follow(modules.chain)
  if (stopPromotion) shutdown.add('key promotion', async () => stopPromotion())
}
