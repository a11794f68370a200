import { bytesToHex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { invalidParams } from '../errors.ts'
import { type MethodDef, method } from '../method.ts'
import { findBlock } from '../resolve.ts'
import { address, blockRef, blockTag, hash32, numberOrHex, quantity } from '../schemas.ts'
import { callTreesOf } from '../trace/address-index.ts'
import { flatTraces } from '../trace/flat-traces.ts'
import { callTreeOf } from './debug-trace.ts'
import { locateTx } from './eth-blocks.ts'

/**
 * Parity's (OpenEthereum's, Erigon's, reth's, Anvil's) flat call traces: `trace_transaction` and
 * `trace_block`, made from geth's call tracer (one replay of the block, its call trees kept per
 * block hash as trace_filter keeps them). Each
 * frame becomes one entry with its `traceAddress` (the path of child indexes) and `subtraces`.
 * Differences: the top frame's `gas` is the transaction's gas limit (Parity subtracts the
 * intrinsic gas); errors are the EVM's messages ("execution reverted" as Parity's "Reverted").
 */

/** The flat traces of a block's transactions, one list per transaction (from the lazy index's cache). */
async function blockTraceLists(ctx: RpcContext, block: Block): Promise<Record<string, unknown>[][]> {
  const roots = await callTreesOf(ctx, block)
  const blockHash = bytesToHex(block.hash())
  const blockNumber = Number(block.header.number)
  return roots.map((root, i) =>
    flatTraces(root, {
      blockHash,
      blockNumber,
      transactionHash: bytesToHex((block.transactions[i] as Block['transactions'][number]).hash()),
      transactionPosition: i,
    }),
  )
}

async function blockTraces(ctx: RpcContext, block: Block): Promise<Record<string, unknown>[]> {
  return (await blockTraceLists(ctx, block)).flat()
}

/** A flat trace's sender and recipient as Parity's filter reads them (lower case). */
function endsOf(trace: Record<string, unknown>): { from?: string; to?: string } {
  const action = trace.action as Record<string, string>
  const result = trace.result as Record<string, string> | null | undefined
  if (trace.type === 'create') return { from: action.from, to: result?.address }
  if (trace.type === 'suicide') return { from: action.address, to: action.refundAddress }
  return { from: action.from, to: action.to }
}

const blockNumberOrTag = z.union([blockTag, quantity])

/** trace_filter's filter (Parity's): a block range, sender and recipient sets, paging. */
const traceFilter = z
  .object({
    fromBlock: blockNumberOrTag.optional(),
    toBlock: blockNumberOrTag.optional(),
    fromAddress: z.array(address).optional(),
    toAddress: z.array(address).optional(),
    mode: z.enum(['union', 'intersection']).optional(),
    after: numberOrHex.optional(),
    count: numberOrHex.optional(),
  })
  .strict()

async function numberOf(ctx: RpcContext, ref: z.infer<typeof blockNumberOrTag> | undefined, dflt: bigint) {
  if (ref === undefined) return dflt
  if (typeof ref === 'bigint') return ref
  return (await findBlock(ctx, ref))?.header.number ?? dflt
}

/** trace_transaction (declared apart: trace_get asks it). */
export const traceTransaction = method({
  name: 'trace_transaction',
  params: z.tuple([hash32]),
  async handler([hash], ctx) {
    const found = await locateTx(ctx, hash)
    if (!found) return null
    // The block's call trees, kept per block hash (address-index.ts): asked again, or for
    // another transaction of the block, nothing is replayed (as Anvil keeps its traces).
    const root = (await callTreesOf(ctx, found.block))[found.index] ?? (await callTreeOf(ctx, hash))
    if (!root) return null
    return flatTraces(root, {
      blockHash: bytesToHex(found.block.hash()),
      blockNumber: Number(found.block.header.number),
      transactionHash: hash,
      transactionPosition: found.index,
    })
  },
})

export const traceParityMethods: MethodDef[] = [
  traceTransaction,
  method({
    name: 'trace_block',
    params: z.tuple([blockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      if (!block) return null
      return blockTraces(ctx, block)
    },
  }),
  method({
    // Every flat trace in the range whose sender is in `fromAddress` or whose recipient (a created
    // contract, a self-destruct's beneficiary) is in `toAddress` (both: `mode` union, the default,
    // or intersection; neither: all), oldest first, then `after` skipped and `count` kept.
    name: 'trace_filter',
    params: z.tuple([traceFilter]),
    async handler([f], ctx) {
      const head = ctx.chain.head.header.number
      const from = await numberOf(ctx, f.fromBlock, 0n)
      const asked = await numberOf(ctx, f.toBlock, head)
      const to = asked < head ? asked : head
      if (from > to) throw invalidParams('invalid block range, ensure that to block is greater than from block')
      if (to - from >= BigInt(ctx.limits.logsBlockRange)) {
        throw invalidParams(`block range too large: at most ${ctx.limits.logsBlockRange} blocks per trace_filter`)
      }
      const senders = new Set((f.fromAddress ?? []).map((a) => a.toLowerCase()))
      const recipients = new Set((f.toAddress ?? []).map((a) => a.toLowerCase()))
      const all = senders.size === 0 && recipients.size === 0
      const matches = (t: Record<string, unknown>) => {
        if (all) return true
        const { from: s, to: r } = endsOf(t)
        const sIn = s !== undefined && senders.has(s.toLowerCase())
        const rIn = r !== undefined && recipients.has(r.toLowerCase())
        if (f.mode === 'intersection') return (senders.size === 0 || sIn) && (recipients.size === 0 || rIn)
        return sIn || rIn
      }
      const out: Record<string, unknown>[] = []
      const skip = Number(f.after ?? 0n)
      const count = f.count === undefined ? Infinity : Number(f.count)
      for (let n = from === 0n ? 1n : from; n <= to && out.length < skip + count; n++) {
        const block = await ctx.chain.getBlockByNumber(n)
        if (!block || block.transactions.length === 0) continue
        for (const t of await blockTraces(ctx, block)) if (matches(t)) out.push(t)
      }
      return out.slice(skip, skip + count)
    },
  }),
]
