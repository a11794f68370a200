import { CairnError } from '@cairn/utils'
import { ChainErrorCode } from './errors.ts'
import type { ChainStore } from './store/store.ts'
import { META_GENESIS, META_GENESIS_HASH, META_SCHEMA } from './store/stored-genesis.ts'

const CHAIN_KEYS = new Set([META_GENESIS, META_GENESIS_HASH, META_SCHEMA])

/**
 * The consensus engine's own records, kept in the chain's database beside its blocks (a BFT
 * engine's validator schedule, the updates of recent blocks, its pending evidence), by key. Each
 * call is one durable write; nothing else of the store is reachable through it.
 */
export interface EngineData {
  get(key: string): Promise<Uint8Array | undefined>
  put(key: string, value: Uint8Array): Promise<void>
  del(key: string): Promise<void>
}

/** {@link EngineData} over the store's `meta` bucket (where the engine's records have always been). */
export function engineDataOf(store: ChainStore): EngineData {
  const { meta } = store
  const own = (key: string) => {
    if (CHAIN_KEYS.has(key))
      throw new CairnError(ChainErrorCode.MISUSE, `engine data: "${key}" is the chain's own record`, {
        fault: 'internal',
      })
    return key
  }
  return {
    get: (key) => meta.get(key),
    put: async (key, value) => {
      await meta.put(own(key), value)
    },
    del: async (key) => {
      await meta.del(own(key))
    },
  }
}
