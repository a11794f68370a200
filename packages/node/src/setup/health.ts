import type { Chain } from '@cairn/chain'
import { Bucket, bucketKey, type KVStore } from '@cairn/db'
import type { P2pNetwork } from '@cairn/p2p'
import type { RpcDispatcher } from '@cairn/rpc'
import { HealthChecks } from '@cairn/service-kit'
import type { TxPool } from '@cairn/txpool'
import type { NodeConfig } from '../config/schema.ts'
import type { CorruptionWatch } from '../db-corruption.ts'
import { headFreshness, networkReady, rpcAccepts } from '../readiness.ts'
import { type EngineModule, engineRuns } from './engine.ts'

/** The readiness checks behind `/ready`: the database, a moving head, the RPC and the network. */
export function openHealth(
  config: NodeConfig,
  modules: {
    kv: KVStore
    corruption: CorruptionWatch
    chain: Chain
    pool: TxPool
    engine: EngineModule
    dispatcher: RpcDispatcher
    network: P2pNetwork | null
  },
): HealthChecks {
  const { kv, corruption, network } = modules
  const health = new HealthChecks()
  health.register('db', async () => {
    await corruption.check()
    await probeDb(kv)
  })
  // Without block production the head moves only by import: pending transactions are not a stuck head.
  if (engineRuns(config, modules.engine)) {
    health.register(
      'head',
      headFreshness(
        { blockTime: config.blockTime, stuckAfterMs: 30_000 },
        { chain: modules.chain, pool: modules.pool },
      ),
    )
  }
  health.register('rpc', rpcAccepts({ dispatcher: modules.dispatcher }))
  if (network) health.register('network', networkReady({ minPeers: config.p2p.minPeers }, { network }))
  return health
}

const PROBE_KEY = bucketKey(Bucket.meta, new TextEncoder().encode('health-probe'))

/** Readiness of the database: a probe key in the meta bucket can be written and deleted. */
async function probeDb(kv: KVStore): Promise<void> {
  await kv.put(PROBE_KEY, new TextEncoder().encode(String(Date.now())))
  await kv.del(PROBE_KEY)
}
