/**
 * `cairn_getShardInfo`: the network's shards as the gateway sees them now — each shard's id, chain
 * id, head, pending transactions and utilisation (gas used over the limit of its head block); a
 * shard that does not answer is listed with `"available": false`. Cross-shard message counts join
 * it with the bridge (docs/consensus/sharding.md).
 */
import type { GatewayShard } from './gateway.ts'

type Ask = (shard: number, method: string, params: unknown[]) => Promise<{ result?: unknown; error?: unknown }>

export interface ShardInfoEntry {
  id: number
  chainId: string
  available: boolean
  head?: string
  pending?: string
  queued?: string
  utilisation?: number
}

export async function shardInfo(
  shards: GatewayShard[],
  chainIds: bigint[],
  ask: Ask,
): Promise<{ shardCount: number; shards: ShardInfoEntry[] }> {
  const entries = await Promise.all(
    shards.map(async (s): Promise<ShardInfoEntry> => {
      const chainId = `0x${(chainIds[s.id] as bigint).toString(16)}`
      try {
        const [block, pool] = await Promise.all([
          ask(s.id, 'eth_getBlockByNumber', ['latest', false]),
          ask(s.id, 'txpool_status', []).catch(() => ({ result: undefined })),
        ])
        const b = block.result as { number?: string; gasUsed?: string; gasLimit?: string } | null
        if (!b?.number) return { id: s.id, chainId, available: false }
        const p = pool.result as { pending?: string; queued?: string } | undefined
        const used = Number(BigInt(b.gasUsed ?? '0x0'))
        const limit = Number(BigInt(b.gasLimit ?? '0x1')) || 1
        return {
          id: s.id,
          chainId,
          available: true,
          head: b.number,
          ...(p?.pending ? { pending: p.pending, queued: p.queued ?? '0x0' } : {}),
          utilisation: Math.round((used / limit) * 10_000) / 10_000,
        }
      } catch {
        return { id: s.id, chainId, available: false }
      }
    }),
  )
  return { shardCount: shards.length, shards: entries }
}
