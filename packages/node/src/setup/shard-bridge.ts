/**
 * A shard's bridge (`config.cairn.shard` in its genesis): the bridge precompile in every VM of its
 * chain (`bridgeExtension`, `ChainModules.extendVM`), and its metrics, counted from the bridge's
 * events in committed blocks (not from executions: a block runs when proposed, when imported, and
 * a call runs it again) — `cairn_shard_messages_total{direction, status}` (out: sent, acknowledged,
 * refunded; in: delivered, expired, failed), `cairn_shard_client_height{shard}` (the height of each
 * light client of another shard) and `cairn_shard_transactions_total`.
 */
import type { ChainEvents } from '@cairn/chain'
import { BRIDGE_ADDRESS, bridgeAbi, bridgeExtension, ReceiptStatus } from '@cairn/consensus/shard'
import { bytesToHex, type Hex, type TypedEmitter } from '@cairn/utils'
import { Counter, Gauge, type Registry } from 'prom-client'
import { decodeEventLog } from 'viem'
import type { ShardPlace } from './shard-admission.ts'

/** This chain's place among the shards, from its genesis's `config.cairn.shard`; undefined: not a shard. */
export function shardPlaceOf(genesis: unknown): ShardPlace | undefined {
  const s = (genesis as { config?: { cairn?: { shard?: ShardPlace } } } | undefined)?.config?.cairn?.shard
  return s && Number.isInteger(s.index) && Number.isInteger(s.count) ? { index: s.index, count: s.count } : undefined
}

/** The `extendVM` of a shard's chain: its bridge precompile. */
export function shardBridge(place: ShardPlace): ReturnType<typeof bridgeExtension> {
  return bridgeExtension({ shard: place.index, count: place.count })
}

const OUT = ['sent', 'acknowledged', 'refunded'] as const
const IN = ['delivered', 'expired', 'failed'] as const

export interface ShardMetrics {
  messages: Counter<'direction' | 'status'>
  clientHeight: Gauge<'shard'>
  transactions: Counter
}

/** The bridge's metrics, every (direction, status) exported at 0. */
export function createShardMetrics(registry: Registry): ShardMetrics {
  const registers = [registry]
  const messages = new Counter({
    name: 'cairn_shard_messages_total',
    help: 'Cross-shard messages by direction (out: sent from this shard; in: received here) and status, from committed blocks',
    labelNames: ['direction', 'status'],
    registers,
  })
  for (const s of OUT) messages.inc({ direction: 'out', status: s }, 0)
  for (const s of IN) messages.inc({ direction: 'in', status: s }, 0)
  return {
    messages,
    clientHeight: new Gauge({
      name: 'cairn_shard_client_height',
      help: "The height of this shard's light client of another shard (its last verified header)",
      labelNames: ['shard'],
      registers,
    }),
    transactions: new Counter({
      name: 'cairn_shard_transactions_total',
      help: 'Transactions in committed blocks of this shard',
      registers,
    }),
  }
}

const STATUS_NAME: Record<number, (typeof IN)[number]> = {
  [ReceiptStatus.DELIVERED]: 'delivered',
  [ReceiptStatus.FAILED]: 'failed',
  [ReceiptStatus.EXPIRED]: 'expired',
}

/** Counts the bridge's events of each new head's receipts; returns the unsubscribe. */
export function followBridge(events: TypedEmitter<ChainEvents>, metrics: ShardMetrics): () => void {
  const onHead = ({ block, receipts }: ChainEvents['newHead']) => {
    metrics.transactions.inc(block.transactions.length)
    for (const r of receipts) {
      for (const [address, topics, data] of r.logs) {
        if (bytesToHex(address) !== BRIDGE_ADDRESS) continue
        let ev: ReturnType<typeof decodeEventLog<typeof bridgeAbi>>
        try {
          ev = decodeEventLog({
            abi: bridgeAbi,
            topics: topics.map((t) => bytesToHex(t)) as [Hex, ...Hex[]],
            data: bytesToHex(data),
          })
        } catch {
          continue
        }
        if (ev.eventName === 'MessageSent') metrics.messages.inc({ direction: 'out', status: 'sent' })
        else if (ev.eventName === 'MessageSettled') {
          metrics.messages.inc({ direction: 'out', status: ev.args.refunded ? 'refunded' : 'acknowledged' })
        } else if (ev.eventName === 'MessageReceived') {
          metrics.messages.inc({ direction: 'in', status: STATUS_NAME[ev.args.status] ?? 'failed' })
        } else if (ev.eventName === 'ClientUpdated') {
          metrics.clientHeight.set({ shard: String(ev.args.shard) }, Number(ev.args.height))
        }
      }
    }
  }
  events.on('newHead', onHead)
  return () => events.off('newHead', onHead)
}
