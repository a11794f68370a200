import { encodeBlock, encodeConsensusReceipt } from '@cairn/chain'
import { bytesToHex, hexToBytes, toQuantity } from '@cairn/utils'
import { z } from 'zod'
import type { RpcContext } from '../context.ts'
import { formatBlock, formatReceipts, formatTx, receiptShape } from '../format.ts'
import { type MethodDef, method } from '../method.ts'
import { findBlock } from '../resolve.ts'
import { blockRef, blockRefOrHash, hash32, quantity, quantityResult } from '../schemas.ts'

/** Blocks, transactions and receipts by number, hash and position. */

async function byHash(ctx: RpcContext, hash: string) {
  return ctx.chain.getBlock(hexToBytes(hash))
}

export async function locateTx(ctx: RpcContext, hash: string) {
  const loc = await ctx.chain.getTxLocation(hexToBytes(hash))
  if (!loc) return undefined
  const block = await ctx.chain.getBlock(loc.blockHash)
  const tx = block?.transactions[loc.index]
  // A block's batch is readable a moment before the head moves to it: never answer with a
  // transaction in a block above the head that eth_blockNumber reports.
  if (!block || !tx || block.header.number > ctx.chain.head.header.number) return undefined
  return { block, tx, index: loc.index }
}

export const ethBlockMethods: MethodDef[] = [
  method({
    name: 'eth_blockNumber',
    readThread: 'answer',
    result: quantityResult,
    params: z.tuple([]),
    handler: (_p, ctx) => toQuantity(ctx.chain.head.header.number),
  }),
  method({
    name: 'eth_getBlockByNumber',
    readThread: 'forward',
    params: z.tuple([blockRef, z.boolean().optional()]),
    async handler([ref, full], ctx) {
      const block = await findBlock(ctx, ref)
      return block ? formatBlock(block, full ?? false, { anvil: ctx.limits.receiptTimestamps }) : null
    },
  }),
  method({
    name: 'eth_getBlockByHash',
    readThread: 'forward',
    params: z.tuple([hash32, z.boolean().optional()]),
    async handler([hash, full], ctx) {
      const block = await byHash(ctx, hash)
      return block ? formatBlock(block, full ?? false, { anvil: ctx.limits.receiptTimestamps }) : null
    },
  }),
  method({
    name: 'eth_getBlockTransactionCountByNumber',
    readThread: 'answer',
    params: z.tuple([blockRef]),
    async handler([ref], ctx) {
      // A past block by number: counted in its stored body, not decoded (ChainReader.getTransactionCount).
      const number =
        typeof ref === 'bigint' ? ref : typeof ref === 'object' && 'blockNumber' in ref ? ref.blockNumber : -1n
      if (number >= 0n && number !== ctx.chain.head.header.number) {
        const hash = await ctx.chain.getCanonicalHash(number)
        const count = hash === undefined ? undefined : await ctx.chain.getTransactionCount(hash)
        return count === undefined ? null : toQuantity(count)
      }
      const block = await findBlock(ctx, ref)
      return block ? toQuantity(block.transactions.length) : null
    },
  }),
  method({
    name: 'eth_getBlockTransactionCountByHash',
    readThread: 'answer',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const count = await ctx.chain.getTransactionCount(hexToBytes(hash))
      return count === undefined ? null : toQuantity(count)
    },
  }),
  method({
    name: 'eth_getTransactionByHash',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const found = await locateTx(ctx, hash)
      if (found) return formatTx(found.tx, { block: found.block, index: found.index })
      const pooled = ctx.pool.get(hexToBytes(hash))
      return pooled ? formatTx(pooled) : null
    },
  }),
  method({
    name: 'eth_getTransactionByBlockNumberAndIndex',
    readThread: 'answer',
    params: z.tuple([blockRef, quantity]),
    async handler([ref, index], ctx) {
      const block = await findBlock(ctx, ref)
      const tx = block?.transactions[Number(index)]
      return block && tx ? formatTx(tx, { block, index: Number(index) }) : null
    },
  }),
  method({
    name: 'eth_getTransactionByBlockHashAndIndex',
    readThread: 'answer',
    params: z.tuple([hash32, quantity]),
    async handler([hash, index], ctx) {
      const block = await byHash(ctx, hash)
      const tx = block?.transactions[Number(index)]
      return block && tx ? formatTx(tx, { block, index: Number(index) }) : null
    },
  }),
  method({
    name: 'eth_getTransactionReceipt',
    readThread: 'answer',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const found = await locateTx(ctx, hash)
      if (!found) return null
      const receipts = await ctx.chain.getReceipts(found.block.hash())
      if (!receipts) return null
      return formatReceipts(found.block, receipts, receiptShape(ctx.limits.receiptTimestamps))[found.index] ?? null
    },
  }),
  method({
    name: 'eth_getBlockReceipts',
    weight: 10,
    readThread: 'forward',
    params: z.tuple([blockRefOrHash]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      if (!block) return null
      const receipts = await ctx.chain.getReceipts(block.hash())
      return receipts ? formatReceipts(block, receipts, receiptShape(ctx.limits.receiptTimestamps)) : null
    },
  }),
  method({
    name: 'debug_getRawTransaction',
    params: z.tuple([hash32]),
    async handler([hash], ctx) {
      const found = await locateTx(ctx, hash)
      const tx = found?.tx ?? ctx.pool.get(hexToBytes(hash))
      return tx ? bytesToHex(tx.serialize()) : '0x'
    },
  }),
  method({
    name: 'debug_getRawReceipts',
    params: z.tuple([blockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      if (!block) return null
      const receipts = (await ctx.chain.getReceipts(block.hash())) ?? []
      return receipts.map((r) => bytesToHex(encodeConsensusReceipt(r)))
    },
  }),
  method({
    name: 'debug_getRawHeader',
    params: z.tuple([blockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      return block ? bytesToHex(block.header.serialize()) : null
    },
  }),
  method({
    name: 'debug_getRawBlock',
    params: z.tuple([blockRef]),
    async handler([ref], ctx) {
      const block = await findBlock(ctx, ref)
      return block ? bytesToHex(encodeBlock(block)) : null
    },
  }),
]
