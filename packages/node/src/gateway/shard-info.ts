/**
 * `cairn_getShardInfo`: the network's shards as the gateway sees them now — each shard's id, chain
 * id, head, pending transactions and utilisation (gas used over the limit of its head block); a
 * shard that does not answer is listed with `"available": false`. With the bridge, `crossShard`:
 * the messages it sent (`out`) and received (`in`) on all its channels, and how many it sent are not
 * decided yet on their destinations (`pendingOut`), from the bridges' counters.
 */
import { BRIDGE_ADDRESS, bridgeAbi } from '@cairn/consensus/shard'
import { decodeFunctionResult, encodeFunctionData, type Hex } from 'viem'
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
  /** Cross-shard messages this shard's bridge sent (to every other shard) and received; absent without a bridge. */
  crossShard?: { out: string; in: string; pendingOut: string }
}

/** A bridge view (`sent` / `received`) of `shard` about `other`; undefined when it has no bridge. */
async function bridgeView(
  ask: Ask,
  shard: number,
  fn: 'sent' | 'received',
  other: number,
): Promise<bigint | undefined> {
  const data = encodeFunctionData({ abi: bridgeAbi, functionName: fn, args: [other] })
  const a = await ask(shard, 'eth_call', [{ to: BRIDGE_ADDRESS, data }, 'latest']).catch(() => ({ result: undefined }))
  if (typeof a.result !== 'string' || a.result.length !== 66) return undefined
  return decodeFunctionResult({ abi: bridgeAbi, functionName: fn, data: a.result as Hex }) as bigint
}

/** Per shard: messages out and in, and its sent messages the destination has not decided yet. */
async function crossShardCounts(shards: GatewayShard[], ask: Ask): Promise<Map<number, ShardInfoEntry['crossShard']>> {
  const sent = new Map<string, bigint | undefined>()
  const received = new Map<string, bigint | undefined>()
  await Promise.all(
    shards.flatMap((s) =>
      shards
        .filter((o) => o.id !== s.id)
        .map(async (o) => {
          sent.set(`${s.id}-${o.id}`, await bridgeView(ask, s.id, 'sent', o.id))
          received.set(`${o.id}-${s.id}`, await bridgeView(ask, o.id, 'received', s.id))
        }),
    ),
  )
  const out = new Map<number, ShardInfoEntry['crossShard']>()
  for (const s of shards) {
    let o = 0n
    let i = 0n
    let pending = 0n
    let known = false
    for (const other of shards) {
      if (other.id === s.id) continue
      const so = sent.get(`${s.id}-${other.id}`)
      const si = received.get(`${s.id}-${other.id}`)
      const delivered = received.get(`${other.id}-${s.id}`)
      if (so !== undefined) {
        known = true
        o += so
        if (delivered !== undefined && so > delivered) pending += so - delivered
      }
      if (si !== undefined) i += si
    }
    if (known)
      out.set(s.id, { out: `0x${o.toString(16)}`, in: `0x${i.toString(16)}`, pendingOut: `0x${pending.toString(16)}` })
  }
  return out
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
  const counts = shards.length > 1 ? await crossShardCounts(shards, ask) : new Map()
  for (const e of entries) {
    const c = counts.get(e.id)
    if (c && e.available) e.crossShard = c
  }
  return { shardCount: shards.length, shards: entries }
}
