import type { Chain } from '@cairn/chain'
import type { Shutdown } from '@cairn/service-kit'
import {
  type ChainFollower,
  createTxPoolMetrics,
  DEFAULT_TXPOOL_OPTIONS,
  followChain,
  TxJournal,
  TxPool,
} from '@cairn/txpool'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from '../config/schema.ts'
import type { DatadirLayout } from '../datadir.ts'
import type { Recovery } from './chain.ts'
import { shardAdmission } from './shard-admission.ts'

/** The transaction pool and its follower of the chain's events. */
export interface PoolModule {
  pool: TxPool
  follower: ChainFollower
}

/**
 * Opens the transaction pool on the chain's head, with its journal of local transactions, and
 * has it follow the chain's new heads and reorgs (wherever a block came from).
 */
export async function openPool(
  config: NodeConfig,
  modules: {
    logger: Logger
    shutdown: Shutdown
    chain: Chain
    datadir: DatadirLayout | null
    registry: Registry
    recovery: Recovery
  },
): Promise<PoolModule> {
  const { chain, datadir, recovery, shutdown } = modules
  const logger = modules.logger.child({ module: 'txpool' })
  // A shard (`config.cairn.shard` in the genesis) admits only senders that live on it.
  const shard = chain.genesis.shard
  if (shard) logger.info({ shard: shard.index, shards: shard.count }, 'a shard: senders of other shards are refused')
  // Local transactions survive a restart and a crash: each is appended (and synced, in groups)
  // before its hash is answered, reloaded (and revalidated) at start, and the file is compacted on
  // shutdown and every `rejournal` seconds. Nothing is kept with --ephemeral.
  const journal =
    datadir && config.txpool.journal
      ? new TxJournal(
          { path: `${datadir.root}/txpool.journal`, rejournal: config.txpool.rejournal },
          {
            // The journal and the pool refer to each other: the pool is made just below.
            pool: {
              locals: () => pool.locals(),
              add: (tx, o) => pool.add(tx, o),
              get counts() {
                return pool.counts
              },
            },
            common: chain.common,
            logger,
          },
        )
      : null
  const pool: TxPool = new TxPool(
    {
      ...DEFAULT_TXPOOL_OPTIONS,
      minTip: config.txpool.minTip ?? (config.dev ? 0n : DEFAULT_TXPOOL_OPTIONS.minTip),
      priceBump: config.txpool.priceBump,
      globalSlots: config.txpool.globalSlots,
      globalQueue: config.txpool.globalQueue,
      accountSlots: config.txpool.accountSlots,
      accountQueue: config.txpool.accountQueue,
      lifetime: config.txpool.lifetime,
      // A flood of local transactions waits for blocks before the pool is full (dev mode only).
      ...(config.dev ? { holdSendersAt: Math.max(1, Math.floor((config.txpool.globalSlots * 3) / 4)) } : {}),
    },
    {
      stateAt: (root) => chain.stateAt(root),
      stateRootOf: (head) => chain.postStateRoot(head),
      head: chain.head.header,
      logger,
      metrics: createTxPoolMetrics(modules.registry),
      ...(recovery ? { recovery } : {}),
      ...(journal ? { journal } : {}),
      ...(shard ? { admit: shardAdmission(shard) } : {}),
    },
  )
  await journal?.load()
  pool.start()
  journal?.start()
  shutdown.add('txpool', async () => {
    pool.stop()
    await journal?.stop()
  })
  const follower = followChain(pool, chain.events, { logger })
  shutdown.add('txpool follower', async () => {
    follower.stop()
    await follower.settled()
  })
  return { pool, follower }
}
