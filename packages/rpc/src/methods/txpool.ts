import { toQuantity } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import { z } from 'zod'
import { formatTx } from '../format.ts'
import { type MethodDef, method } from '../method.ts'
import { address } from '../schemas.ts'

/** geth's txpool namespace: pending (executable) and queued (nonce-gapped) transactions per sender. */

type Grouped = Record<string, Record<string, unknown>>

function group(bySender: Map<string, TypedTransaction[]>, each: (tx: TypedTransaction) => unknown): Grouped {
  const out: Grouped = {}
  for (const [sender, txs] of bySender) {
    const byNonce: Record<string, unknown> = {}
    for (const tx of txs) byNonce[tx.nonce.toString()] = each(tx)
    out[sender] = byNonce
  }
  return out
}

/** geth's one-line summary: "0xto: 1 wei + 21000 gas × 1000000000 wei". */
function summary(tx: TypedTransaction): string {
  const price =
    'maxFeePerGas' in tx ? (tx as { maxFeePerGas: bigint }).maxFeePerGas : (tx as { gasPrice: bigint }).gasPrice
  const to = tx.to ? tx.to.toString() : 'contract creation'
  return `${to}: ${tx.value} wei + ${tx.gasLimit} gas × ${price} wei`
}

export const txpoolMethods: MethodDef[] = [
  method({
    name: 'txpool_status',
    params: z.tuple([]),
    handler: (_p, ctx) => ({
      pending: toQuantity(ctx.pool.counts.pending),
      queued: toQuantity(ctx.pool.counts.queued),
    }),
  }),
  method({
    name: 'txpool_content',
    params: z.tuple([]),
    async handler(_p, ctx) {
      const { pending, queued } = await ctx.pool.content()
      return { pending: group(pending, (tx) => formatTx(tx)), queued: group(queued, (tx) => formatTx(tx)) }
    },
  }),
  method({
    name: 'txpool_contentFrom',
    params: z.tuple([address]),
    async handler([addr], ctx) {
      const { pending, queued } = await ctx.pool.content()
      const pick = (m: Map<string, TypedTransaction[]>) =>
        new Map([...m].filter(([sender]) => sender.toLowerCase() === addr))
      const p = group(pick(pending), (tx) => formatTx(tx))
      const q = group(pick(queued), (tx) => formatTx(tx))
      return { pending: Object.values(p)[0] ?? {}, queued: Object.values(q)[0] ?? {} }
    },
  }),
  method({
    name: 'txpool_inspect',
    params: z.tuple([]),
    async handler(_p, ctx) {
      const { pending, queued } = await ctx.pool.content()
      return { pending: group(pending, summary), queued: group(queued, summary) }
    },
  }),
]
