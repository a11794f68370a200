import {
  type Chain,
  type ChainEngine,
  Chain as ChainImpl,
  connectFork,
  createChainMetrics,
  readStoredGenesis,
  UNLIMITED_CODE_SIZE,
  workerRecovery,
} from '@cairn/chain'
import { createCustomCrypto, RecoverPool } from '@cairn/crypto'
import type { KVStore } from '@cairn/db'
import type { Shutdown, Tracing } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import type { NodeConfig } from '../config/schema.ts'
import type { DatadirLayout } from '../datadir.ts'
import type { CorruptionWatch } from '../db-corruption.ts'
import type { DevAccount } from '../dev-accounts.ts'
import { forkHardfork, forkOptions, fundForkAccounts, redactUrl } from '../fork-mode.ts'
import { loadNodeKeys } from '../keys/node-keys.ts'
import { traceComponents } from '../traced.ts'
import { identityInFile } from './datadir.ts'
import { createShardMetrics, followBridge, shardBridge, shardPlaceOf } from './shard-bridge.ts'

/** Signature recovery on worker threads, shared by the chain and the pool; undefined: none. */
export type Recovery = ReturnType<typeof workerRecovery> | undefined

/** The remote a forked chain starts from (fork mode). */
export type ForkStart = Awaited<ReturnType<typeof connectFork>>

/** The chain, opened with the engine as its rules. */
export interface ChainModule {
  chain: Chain
  /** Fork mode: the remote the chain forked from; undefined otherwise. */
  fork: ForkStart | undefined
}

/**
 * Signature recovery on worker threads (native secp256k1 only): admission overlaps with sealing,
 * and a received block's senders are recovered in parallel before it executes.
 */
export function openRecovery(modules: { shutdown: Shutdown }): { recovery: Recovery; startWorkers: () => void } {
  const recoverPool = RecoverPool.create()
  if (recoverPool) modules.shutdown.add('recovery workers', () => recoverPool.close())
  return {
    recovery: recoverPool ? workerRecovery(recoverPool) : undefined,
    // The threads start on the first recovery, or when the node calls this once it answers.
    startWorkers: () => recoverPool?.start(),
  }
}

/** Anvil's --code-size-limit / --disable-code-size-limit: dev rules (the read threads take them too). */
export function codeSizeLimitOf(config: NodeConfig): bigint | undefined {
  if (!config.dev) return undefined
  return config.devChain.disableCodeSizeLimit ? UNLIMITED_CODE_SIZE : config.devChain.codeSizeLimit
}

/**
 * Opens the chain (its genesis, or the remote's block in fork mode) with the engine as its rules,
 * then completes a validator key rotation whose height the head has reached. The chain holds
 * nothing to close beyond the database.
 */
export async function openChain(
  config: NodeConfig,
  modules: {
    logger: Logger
    kv: KVStore
    engine: ChainEngine
    genesis: unknown
    datadir: DatadirLayout | null
    accounts: DevAccount[]
    registry: Registry
    corruption: CorruptionWatch
    recovery: Recovery
    tracing: Tracing
  },
): Promise<ChainModule> {
  const { logger, kv, genesis, datadir, recovery } = modules
  const fork = config.fork.url !== undefined ? await connectFork(forkOptions(config)) : undefined
  const codeSizeLimit = codeSizeLimitOf(config)
  // A shard's chain runs the bridge precompile (its genesis's `config.cairn.shard`, or the stored one's).
  const shard = shardPlaceOf(genesis ?? (fork ? undefined : (await readStoredGenesis(kv)).stored))
  const chain = await ChainImpl.open(
    {
      genesis,
      ...(fork ? { fork, ...(config.devChain.hardfork ? { forkHardfork: forkHardfork(config) } : {}) } : {}),
      genesisSource: config.genesis ?? 'dev genesis',
      // A dev chain's clock moves at will (evm_increaseTime, anvil_mine): its followers accept
      // timestamps ahead of their own clock.
      ...(config.dev ? { blocks: { maxFutureSeconds: 2 ** 40 } } : {}),
      stateCacheBytes: config.cache.state * 2 ** 20,
      ...(config.reference ? { reference: true } : {}),
      ...(codeSizeLimit !== undefined ? { codeSizeLimit } : {}),
    },
    {
      kv,
      engine: modules.engine,
      logger: logger.child({ module: 'chain' }),
      metrics: createChainMetrics(modules.registry),
      customCrypto: createCustomCrypto(),
      onCorruption: modules.corruption.report,
      ...(recovery ? { recovery } : {}),
      ...(shard ? { extendVM: shardBridge(shard) } : {}),
    },
  )
  if (shard) followBridge(chain.events, createShardMetrics(modules.registry))
  // Now that the head is known, complete a validator key rotation whose height it has reached.
  if (datadir) {
    loadNodeKeys(datadir, {
      validator: config.keys.validator,
      identity: identityInFile(config),
      headNumber: chain.head.header.number,
    })
  }
  for (const w of chain.report.warnings) logger.warn(w)
  if (fork) {
    logger.info({ url: redactUrl(fork.url), block: Number(fork.blockNumber), chainId: Number(fork.chainId) }, 'forked')
    if (chain.report.created) await fundForkAccounts(chain, modules.accounts, config.dev_accounts.balance)
  }
  traceComponents(modules.tracing.tracer, { kv, chain })
  logger.info(
    { number: Number(chain.head.header.number), chainId: Number(chain.chainId), hardfork: chain.genesis.hardfork },
    chain.report.created ? 'new chain' : 'resuming chain',
  )
  return { chain, fork }
}
