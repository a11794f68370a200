import { readStoredGenesis } from '@cairn/chain'
import {
  BftEngine,
  ConsensusWal,
  createBftMetrics,
  DevEngine,
  type Engine,
  FileSignerState,
  MemorySignerState,
  parseBftConfig,
  type SignerState,
} from '@cairn/consensus'
import type { KVStore } from '@cairn/db'
import type { DevControls } from '@cairn/rpc'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from './config/schema.ts'
import type { NodeKeys } from './keys/node-keys.ts'

/** The engine the config names, and the dev controls it offers (null when it offers none). */
export interface BuiltEngine {
  engine: Engine
  dev: DevControls | null
}

export interface EngineModules {
  logger: Logger
  /** The genesis the node starts from (undefined: the datadir's stored one, read from `kv`). */
  genesis: unknown
  kv: KVStore
  /** The node's keys (null: ephemeral, no datadir). */
  keys: NodeKeys | null
  /** Where the validator's signer state lives (`DATADIR/keys/validator.state.json`); null: in memory. */
  signerStatePath: string | null
  /** Where the engine's metrics go (`cairn_bft_*`). */
  registry: Registry | null
  /** The consensus WAL's directory (`DATADIR/consensus-wal`); null: none (ephemeral). */
  walDir: string | null
}

/**
 * Builds the engine `config.engine` names, once, before the chain opens: the chain is opened with
 * it as its rules, then `engine.attach({ chain, pool })` (two phases, as the chain must exist
 * before the engine can produce on it).
 */
export async function createEngine(config: NodeConfig, modules: EngineModules): Promise<BuiltEngine> {
  switch (config.engine) {
    case 'dev': {
      // Anvil's coinbase is the zero address: tips do not move the dev accounts' balances, so
      // tests that compute balances from receipts hold against both.
      const engine = new DevEngine(
        {
          blockTime: config.blockTime,
          coinbase: new Uint8Array(20),
        },
        { logger: modules.logger },
      )
      return { engine, dev: config.dev ? engine : null }
    }
    case 'bft': {
      const genesis = modules.genesis ?? (await readStoredGenesis(modules.kv)).stored
      const bft = parseBftConfig(genesis)
      const chainId = BigInt((genesis as { config: { chainId: number | string } }).config.chainId)
      // A validator signs with its key (keys.validator); a node without one follows the commits.
      const key = modules.keys?.validator?.current.privateKey
      const signerState: SignerState | undefined =
        key === undefined
          ? undefined
          : modules.signerStatePath
            ? new FileSignerState({ path: modules.signerStatePath })
            : new MemorySignerState()
      // A validator logs what its machine receives, so a restart rejoins its height where it was.
      const wal = key !== undefined && modules.walDir ? ConsensusWal.open({ dir: modules.walDir }) : undefined
      const engine = new BftEngine(
        { chainId, config: bft, ...(key !== undefined ? { privateKey: key } : {}) },
        {
          logger: modules.logger,
          metrics: modules.registry ? createBftMetrics(modules.registry) : null,
          ...(signerState ? { signerState } : {}),
          ...(wal ? { wal } : {}),
        },
      )
      return { engine, dev: null }
    }
  }
}
