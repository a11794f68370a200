import { bytesToHex, hexToBytes, toQuantity } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Address } from '@ethereumjs/util'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { effectiveGasPrice, formatBlock, formatReceipts } from '../format.ts'
import { type MethodDef, method } from '../method.ts'
import { findBlock } from '../resolve.ts'
import { address, blockRef, hash32, quantity } from '../schemas.ts'
import { callTreeOf, walkFrames } from '../trace/call-frames.ts'
import { ethAccountMethods } from './eth-account.ts'

/**
 * Otterscan's `ots_` namespace (Erigon's, also Anvil's), the methods Otterscan needs to browse a
 * chain: blocks with their fees, transactions with their internal operations, call traces and
 * revert data, contract creators. The address searches (`ots_searchTransactionsBefore/After`)
 * need an address → transactions index Cairn does not keep: not served (Otterscan then shows no
 * address history). Traces come from the call tracer (the replay of debug_traceTransaction).
 */

const API_LEVEL = 8

async function blockDetails(ctx: RpcContext, block: Block): Promise<Record<string, unknown>> {
  const { transactions: _txs, ...rest } = formatBlock(block, false)
  const receipts = (await ctx.chain.store.getReceipts(block.hash())) ?? []
  let fees = 0n
  let before = 0n
  for (const [i, tx] of block.transactions.entries()) {
    const cumulative = receipts[i]?.cumulativeGasUsed ?? before
    fees += (cumulative - before) * effectiveGasPrice(tx, block.header.baseFeePerGas ?? 0n)
    before = cumulative
  }
  return {
    block: { ...rest, logsBloom: null, transactionCount: block.transactions.length },
    issuance: { blockReward: '0x0', uncleReward: '0x0', issuance: '0x0' },
    totalFees: toQuantity(fees),
  }
}

/** The first block whose state holds code at `addr` (the archive is bisected), or undefined. */
async function firstBlockWithCode(ctx: RpcContext, addr: Address): Promise<bigint | undefined> {
  const codeAt = async (n: bigint) => {
    const hash = await ctx.chain.store.getCanonicalHash(n)
    const header = hash ? await ctx.chain.store.getHeader(hash) : undefined
    if (!header) return false
    return (await ctx.chain.executor.stateAt(header.stateRoot).getCode(addr)).length > 0
  }
  let hi = ctx.chain.head.header.number
  if (!(await codeAt(hi))) return undefined
  let lo = 0n
  if (await codeAt(lo)) return 0n
  // codeAt(lo) false, codeAt(hi) true: find the first true.
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n
    if (await codeAt(mid)) hi = mid
    else lo = mid
  }
  return hi
}

export const otsMethods: MethodDef[] = [
  method({
    name: 'ots_getApiLevel',
    params: z.tuple([]),
    handler: () => API_LEVEL,
  }),
  method({
    name: 'ots_hasCode',
    params: z.tuple([address, blockRef.optional()]),
    async handler([addr, ref], ctx) {
      const block = (await findBlock(ctx, ref ?? 'latest')) ?? ctx.chain.head
      const code = await ctx.chain.executor.stateAt(block.header.stateRoot).getCode(new Address(hexToBytes(addr)))
      return code.length > 0
    },
  }),
  method({
    name: 'ots_getBlockDetails',
    params: z.tuple([blockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      return block ? blockDetails(ctx, block) : null
    },
  }),
  method({
    name: 'ots_getBlockDetailsByHash',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const block = await ctx.chain.store.getBlock(hexToBytes(hash))
      return block ? blockDetails(ctx, block) : null
    },
  }),
  method({
    name: 'ots_getBlockTransactions',
    params: z.tuple([blockRef, quantity, quantity]),
    async handler([ref, page, size], ctx) {
      const block = await findBlock(ctx, ref)
      if (!block) return null
      const full = formatBlock(block, true) as { transactions: Record<string, unknown>[] }
      const receipts = formatReceipts(block, (await ctx.chain.store.getReceipts(block.hash())) ?? [])
      // As Erigon: pages counted from the block's end (page 0 holds the last transactions).
      const n = block.transactions.length
      const end = Math.max(0, n - Number(page) * Number(size))
      const start = Math.max(0, end - Number(size))
      const txs = full.transactions.slice(start, end).map((t) => ({
        ...t,
        input: typeof t.input === 'string' ? t.input.slice(0, 10) : t.input,
      }))
      return {
        fullblock: { ...full, logsBloom: null, transactionCount: n, transactions: txs },
        receipts: receipts.slice(start, end).map((r) => ({ ...r, logs: null, logsBloom: null })),
      }
    },
  }),
  method({
    name: 'ots_getTransactionError',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const root = await callTreeOf(ctx, hash)
      return root?.error ? (root.output ?? '0x') : '0x'
    },
  }),
  method({
    name: 'ots_traceTransaction',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const root = await callTreeOf(ctx, hash)
      if (!root) return null
      return [...walkFrames(root)].map(({ frame, depth }) => ({
        type: frame.type,
        depth,
        from: frame.from,
        to: frame.to ?? null,
        value: frame.type === 'STATICCALL' || frame.type === 'DELEGATECALL' ? null : (frame.value ?? '0x0'),
        input: frame.input,
        output: frame.output ?? '0x',
      }))
    },
  }),
  method({
    name: 'ots_getInternalOperations',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const root = await callTreeOf(ctx, hash)
      if (!root) return null
      const ops: { type: number; from: string; to: string; value: string }[] = []
      for (const { frame, depth } of walkFrames(root)) {
        if (depth === 0 || frame.error) continue
        const value = frame.value ?? '0x0'
        const to = frame.to ?? '0x0000000000000000000000000000000000000000'
        if (frame.type === 'SELFDESTRUCT') ops.push({ type: 1, from: frame.from, to, value })
        else if (frame.type === 'CREATE') ops.push({ type: 2, from: frame.from, to, value })
        else if (frame.type === 'CREATE2') ops.push({ type: 3, from: frame.from, to, value })
        else if (frame.type === 'CALL' && BigInt(value) > 0n) ops.push({ type: 0, from: frame.from, to, value })
      }
      return ops
    },
  }),
  method({
    name: 'ots_getContractCreator',
    params: z.tuple([address]),
    async handler([addr], ctx) {
      const target = new Address(hexToBytes(addr))
      const number = await firstBlockWithCode(ctx, target)
      if (number === undefined || number === 0n) return null
      const hash = await ctx.chain.store.getCanonicalHash(number)
      const block = hash ? await ctx.chain.store.getBlock(hash) : undefined
      for (const tx of block?.transactions ?? []) {
        const txHash = bytesToHex(tx.hash())
        const root = await callTreeOf(ctx, txHash)
        if (!root) continue
        for (const { frame } of walkFrames(root)) {
          if ((frame.type === 'CREATE' || frame.type === 'CREATE2') && frame.to?.toLowerCase() === addr.toLowerCase()) {
            return { hash: txHash, creator: frame.from }
          }
        }
      }
      // Code set without a transaction (anvil_setCode): no creator.
      return null
    },
  }),
  method({
    name: 'ots_getTransactionBySenderAndNonce',
    params: z.tuple([address, quantity]),
    async handler([addr, nonce], ctx) {
      const m = ethAccountMethods.find((d) => d.name === 'eth_getTransactionBySenderAndNonce')
      if (!m) return null
      const tx = (await m.handler(m.params.parse([addr, toQuantity(nonce)]), ctx, {})) as { hash: string } | null
      return tx?.hash ?? null
    },
  }),
]
