import { bytesToHex, hexToBytes, toQuantity } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Address } from '@ethereumjs/util'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { effectiveGasPrice, formatBlock, formatReceipts, formatTx } from '../format.ts'
import { invokeMethod, type MethodDef, method } from '../method.ts'
import { findBlock } from '../resolve.ts'
import { address, hash32, lenientBlockRef, numberOrHex } from '../schemas.ts'
import { callTreesOf, mentions } from '../trace/address-index.ts'
import { walkFrames } from '../trace/call-frames.ts'
import { callTreeOf } from './debug-trace.ts'
import { ethGetTransactionBySenderAndNonce } from './eth-account.ts'

/**
 * Otterscan's `ots_` namespace (Erigon's, also Anvil's), the methods Otterscan needs to browse a
 * chain: blocks with their fees, transactions with their internal operations, call traces and
 * revert data, contract creators, and an address's history (`ots_searchTransactionsBefore/After`,
 * over the lazily derived address index of `src/trace/address-index.ts`). Traces come from the call
 * tracer (the replay of debug_traceTransaction, or of the whole block for the searches).
 */

const API_LEVEL = 8

async function blockDetails(ctx: RpcContext, block: Block): Promise<Record<string, unknown>> {
  const { transactions: _txs, ...rest } = formatBlock(block, false, { anvil: ctx.limits.receiptTimestamps })
  const receipts = (await ctx.chain.getReceipts(block.hash())) ?? []
  let fees = 0n
  let before = 0n
  for (const [i, tx] of block.transactions.entries()) {
    const cumulative = receipts[i]?.cumulativeGasUsed ?? before
    fees += (cumulative - before) * effectiveGasPrice(tx, block.header.baseFeePerGas ?? 0n)
    before = cumulative
  }
  return {
    // Erigon nulls the bloom (bandwidth); Anvil, whose shapes a dev chain answers, keeps it.
    block: {
      ...rest,
      logsBloom: ctx.limits.receiptTimestamps ? rest.logsBloom : null,
      transactionCount: block.transactions.length,
    },
    issuance: { blockReward: '0x0', uncleReward: '0x0', issuance: '0x0' },
    totalFees: toQuantity(fees),
  }
}

/** The first block whose state holds code at `addr` (the archive is bisected), or undefined. */
async function firstBlockWithCode(ctx: RpcContext, addr: Address): Promise<bigint | undefined> {
  const codeAt = async (n: bigint) => {
    const hash = await ctx.chain.getCanonicalHash(n)
    const header = hash ? await ctx.chain.getHeader(hash) : undefined
    if (!header) return false
    return (await ctx.chain.stateAfter(header).getCode(addr)).length > 0
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

/**
 * Otterscan's address history, as Anvil pages it: blocks are scanned one by one (before `blockNum`
 * downwards, 0 or a number past the head meaning from the head; or after it upwards, from block 1
 * for 0), each whole block's transactions that mention the address taken (so a page may exceed
 * `pageSize`), until the page has `pageSize` or the chain ends; newest first either way.
 * `firstPage`: the page reaches the head; `lastPage`: it reaches block 1. A scan traces at most
 * `limits.logsBlockRange` blocks that carry transactions (empty blocks cost nothing); a page cut
 * there has neither flag from the cut side.
 */
async function searchTransactions(
  ctx: RpcContext,
  addr: string,
  blockNum: bigint,
  pageSize: bigint,
  direction: 'before' | 'after',
): Promise<Record<string, unknown>> {
  const best = ctx.chain.head.header.number
  const who = addr.toLowerCase()
  const found: { block: Block; index: number }[] = []
  let traced = 0
  const visit = async (n: bigint, newestFirst: boolean): Promise<boolean> => {
    const block = await ctx.chain.getBlockByNumber(n)
    if (!block || block.transactions.length === 0) return true
    if (traced++ >= ctx.limits.logsBlockRange) return false
    const roots = await callTreesOf(ctx, block)
    const hits = roots.flatMap((root, index) => (mentions(root, who) ? [{ block, index }] : []))
    found.push(...(newestFirst ? hits.reverse() : hits))
    return true
  }
  let firstPage = false
  let lastPage = false
  if (direction === 'before') {
    // Past the head (up to 2^64-1) means from the head: never a walk down through blocks that do not exist.
    const from = blockNum === 0n || blockNum > best ? best : blockNum - 1n
    firstPage = from >= best
    for (let n = from; n >= 1n; n--) {
      if (BigInt(found.length) >= pageSize) break
      if (!(await visit(n, true))) break
      if (n === 1n) lastPage = true
    }
  } else {
    const from = blockNum + 1n
    lastPage = blockNum === 0n
    firstPage = from > best
    for (let n = from; n <= best; n++) {
      if (BigInt(found.length) >= pageSize) break
      if (!(await visit(n, false))) break
      if (n === best) firstPage = true
    }
    found.reverse()
  }
  const receiptsOf = new Map<Block, Record<string, unknown>[]>()
  const receipts: Record<string, unknown>[] = []
  for (const { block, index } of found) {
    let list = receiptsOf.get(block)
    if (!list) {
      list = formatReceipts(block, (await ctx.chain.getReceipts(block.hash())) ?? [], {
        blobGasPrice: ctx.limits.receiptTimestamps,
      })
      receiptsOf.set(block, list)
    }
    receipts.push({ ...list[index], timestamp: toQuantity(block.header.timestamp) })
  }
  return {
    txs: found.map(({ block, index }) =>
      formatTx(block.transactions[index] as Block['transactions'][number], { block, index }),
    ),
    receipts,
    firstPage,
    lastPage,
  }
}

const searchParams = z.tuple([address, numberOrHex, numberOrHex])

export const otsMethods: MethodDef[] = [
  method({
    name: 'ots_searchTransactionsBefore',
    params: searchParams,
    handler: ([addr, blockNum, pageSize], ctx) => searchTransactions(ctx, addr, blockNum, pageSize, 'before'),
  }),
  method({
    name: 'ots_searchTransactionsAfter',
    params: searchParams,
    handler: ([addr, blockNum, pageSize], ctx) => searchTransactions(ctx, addr, blockNum, pageSize, 'after'),
  }),
  method({
    name: 'ots_getApiLevel',
    params: z.tuple([]),
    handler: () => API_LEVEL,
  }),
  method({
    name: 'ots_hasCode',
    params: z.tuple([address, lenientBlockRef.optional()]),
    async handler([addr, ref], ctx) {
      const block = (await findBlock(ctx, ref ?? 'latest')) ?? ctx.chain.head
      const code = await ctx.chain.stateAfter(block.header).getCode(new Address(hexToBytes(addr)))
      return code.length > 0
    },
  }),
  method({
    name: 'ots_getBlockDetails',
    params: z.tuple([lenientBlockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      return block ? blockDetails(ctx, block) : null
    },
  }),
  method({
    name: 'ots_getBlockDetailsByHash',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const block = await ctx.chain.getBlock(hexToBytes(hash))
      return block ? blockDetails(ctx, block) : null
    },
  }),
  method({
    name: 'ots_getBlockTransactions',
    params: z.tuple([lenientBlockRef, numberOrHex, numberOrHex]),
    async handler([ref, page, size], ctx) {
      const block = await findBlock(ctx, ref)
      if (!block) return null
      const full = formatBlock(block, true) as { transactions: Record<string, unknown>[] }
      const receipts = formatReceipts(block, (await ctx.chain.getReceipts(block.hash())) ?? [])
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
        // As Anvil's: each with its block's timestamp.
        receipts: receipts
          .slice(start, end)
          .map((r) => ({ ...r, logs: null, logsBloom: null, timestamp: toQuantity(block.header.timestamp) })),
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
      const hash = await ctx.chain.getCanonicalHash(number)
      const block = hash ? await ctx.chain.getBlock(hash) : undefined
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
    params: z.tuple([address, numberOrHex]),
    async handler([addr, nonce], ctx) {
      const tx = await invokeMethod(ethGetTransactionBySenderAndNonce, [addr, toQuantity(nonce)], ctx)
      return tx?.hash ?? null
    },
  }),
]
