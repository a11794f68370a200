// An opportunity as it travels through the work queue: JSON with amounts as decimal strings, and
// its idempotency key — the same opportunity (same block, cycle and input) always has the same id,
// whichever strategy instance found it, so JetStream's de-duplication and the executors' claims
// recognise it.
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { Address } from '../graph/token-graph.ts'
import type { Opportunity } from '../strategy/search.ts'

export interface QueuedOpportunity {
  id: string
  /** The block whose changes revealed it. */
  block: bigint
  /** When the strategy saw that block (ms since the epoch): the block-to-transaction latency starts here. */
  seenAt: number
  opportunity: Opportunity
}

export function opportunityId(block: bigint, o: Opportunity): string {
  return createHash('sha256').update(`${block}|${o.cycle.key}|${o.amountIn}`).digest('hex').slice(0, 32)
}

const Big = z
  .string()
  .regex(/^-?\d+$/)
  .transform((s) => BigInt(s))
const Addr = z.string().regex(/^0x[0-9a-fA-F]{40}$/) as unknown as z.ZodType<Address>
const Wire = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(128),
  block: Big,
  seenAt: z.number(),
  cycle: z.object({ key: z.string(), pools: z.array(Addr).min(2).max(8), tokens: z.array(Addr).min(3).max(9) }),
  amountIn: Big,
  amountOut: Big,
  grossProfit: Big,
  gasCost: Big,
  netProfit: Big,
  hopOuts: z.array(Big),
})

export function encodeQueued(q: QueuedOpportunity): Uint8Array {
  const o = q.opportunity
  const s = (v: bigint) => v.toString()
  return new TextEncoder().encode(
    JSON.stringify({
      v: 1,
      id: q.id,
      block: s(q.block),
      seenAt: q.seenAt,
      cycle: o.cycle,
      amountIn: s(o.amountIn),
      amountOut: s(o.amountOut),
      grossProfit: s(o.grossProfit),
      gasCost: s(o.gasCost),
      netProfit: s(o.netProfit),
      hopOuts: o.hopOuts.map(s),
    }),
  )
}

/** Parses a message; throws (zod) on anything malformed — the consumer drops it and logs. */
export function decodeQueued(bytes: Uint8Array): QueuedOpportunity {
  const w = Wire.parse(JSON.parse(new TextDecoder().decode(bytes)))
  return {
    id: w.id,
    block: w.block,
    seenAt: w.seenAt,
    opportunity: {
      cycle: w.cycle,
      amountIn: w.amountIn,
      amountOut: w.amountOut,
      grossProfit: w.grossProfit,
      gasCost: w.gasCost,
      netProfit: w.netProfit,
      hopOuts: w.hopOuts,
    },
  }
}
