import { type KVStore, LevelKV, MemoryKV } from '@cairn/db'
import type { Shutdown } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import type { NodeConfig } from '../config/schema.ts'
import type { DatadirLayout } from '../datadir.ts'
import type { CorruptionWatch } from '../db-corruption.ts'
import { readThreadCount, reusePortSupported } from '../rpc-threads/thread-count.ts'

/** The chain database, and how many RPC read threads open it beside this thread. */
export interface StorageModule {
  kv: KVStore
  /** RPC read threads (`rpc.threads`) that open the same LevelDB; 0: none. */
  readThreads: number
  /** The read threads may listen on the RPC port themselves (`rpc.threadListeners` and reusePort). */
  threadListeners: boolean
}

/** Opens the chain database (LevelDB in the datadir, in memory with --ephemeral); closed after everything that reads it. */
export async function openStorage(
  config: NodeConfig,
  modules: {
    logger: Logger
    shutdown: Shutdown
    datadir: DatadirLayout | null
    forking: boolean
    corruption: CorruptionWatch
  },
): Promise<StorageModule> {
  const { logger, datadir, corruption } = modules
  // Read threads open the same LevelDB beside this thread: every opener of it must say so.
  const threadListeners = config.rpc.threadListeners && reusePortSupported()
  // A fork's read threads would miss the remote (their stores do not fetch): none.
  const readThreads = datadir && !modules.forking ? readThreadCount(config.rpc.threads, threadListeners) : 0
  if (!datadir && config.rpc.threads !== 'auto' && config.rpc.threads > 0) {
    logger.info(
      { threads: config.rpc.threads },
      'rpc.threads ignored with --ephemeral: an in-memory store cannot be shared',
    )
  }
  const kv: KVStore = datadir
    ? new LevelKV({ path: datadir.chaindata, multithreading: readThreads > 0 }, { onCorruption: corruption.report })
    : new MemoryKV()
  await kv.open()
  modules.shutdown.add('database', () => kv.close())
  return { kv, readThreads, threadListeners }
}
