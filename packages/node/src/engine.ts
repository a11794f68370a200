import { DevEngine, type Engine } from '@cairn/consensus'
import type { DevControls } from '@cairn/rpc'
import type { Logger } from '@cairn/utils'
import type { NodeConfig } from './config/schema.ts'

/** The engine the config names, and the dev controls it offers (null when it offers none). */
export interface BuiltEngine {
  engine: Engine
  dev: DevControls | null
}

/**
 * Builds the engine `config.engine` names, once, before the chain opens: the chain is opened with
 * it as its rules, then `engine.attach({ chain, pool })` (two phases, as the chain must exist
 * before the engine can produce on it).
 */
export function createEngine(config: NodeConfig, modules: { logger: Logger }): BuiltEngine {
  switch (config.engine) {
    case 'dev': {
      // Anvil's coinbase is the zero address: tips do not move the dev accounts' balances, so
      // tests that compute balances from receipts hold against both.
      const engine = new DevEngine(
        {
          blockTime: config.blockTime,
          coinbase: new Uint8Array(20),
          // A flood of transactions waits for blocks before the pool is full (dev mode only).
          backpressureAt: Math.max(1, Math.floor((config.txpool.globalSlots * 3) / 4)),
        },
        { logger: modules.logger },
      )
      return { engine, dev: config.dev ? engine : null }
    }
  }
}
