import { toQuantity } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { z } from 'zod'
import { invalidParams } from '../errors.ts'
import { percentile, suggestTip, tipOf } from '../gas-oracle.ts'
import { type MethodDef, method } from '../method.ts'
import { baseFeeAfter } from '../next-block.ts'
import { resolveBlock } from '../resolve.ts'
import { blockRef, numberOrHex, quantityResult } from '../schemas.ts'

/** Blob gas used over the most the block's fork allows; 0 before Cancun. */
function blobGasUsedRatio(b: Block): number {
  const used = b.header.blobGasUsed
  if (used === undefined) return 0
  const max = b.header.common.getBlobGasSchedule().maxBlobGasPerBlock
  return max > 0n ? Number(used) / Number(max) : 0
}

/** Chain identity, accounts and fees (the coinbase and the work methods: eth-mining.ts). */
export const ethMiscMethods: MethodDef[] = [
  method({
    name: 'eth_chainId',
    params: z.tuple([]),
    handler: (_p, ctx) => toQuantity(ctx.chain.chainId),
    readThread: 'answer',
    result: quantityResult,
  }),
  method({
    name: 'eth_syncing',
    params: z.tuple([]),
    handler: (_p, ctx) => {
      const s = ctx.network.syncing()
      return s === false
        ? false
        : {
            startingBlock: toQuantity(s.startingBlock),
            currentBlock: toQuantity(s.currentBlock),
            highestBlock: toQuantity(s.highestBlock),
          }
    },
  }),
  method({ name: 'eth_accounts', params: z.tuple([]), handler: (_p, ctx) => ctx.accounts.addresses() }),
  method({
    name: 'eth_gasPrice',
    result: quantityResult,
    params: z.tuple([]),
    async handler(_p, ctx) {
      return toQuantity((await baseFeeAfter(ctx, ctx.chain.head)) + (await suggestTip(ctx)))
    },
  }),
  method({
    name: 'eth_maxPriorityFeePerGas',
    params: z.tuple([]),
    async handler(_p, ctx) {
      return toQuantity(await suggestTip(ctx))
    },
  }),
  method({
    name: 'eth_baseFee',
    params: z.tuple([]),
    // The next block's base fee (the engine's: EIP-1559's or governance's floor), as eth_blobBaseFee is the next block's blob fee.
    handler: async (_p, ctx) => toQuantity(await baseFeeAfter(ctx, ctx.chain.head)),
  }),
  method({
    name: 'eth_blobBaseFee',
    params: z.tuple([]),
    handler: (_p, ctx) => toQuantity(ctx.chain.head.header.calcNextBlobGasPrice(ctx.chain.common)),
  }),
  method({
    name: 'eth_feeHistory',
    params: z.tuple([numberOrHex, blockRef, z.array(z.number().min(0).max(100)).max(100).optional()]),
    async handler([count, newest, percentiles], ctx) {
      if (count < 1n) return { oldestBlock: '0x0', baseFeePerGas: [], gasUsedRatio: [] }
      const n = count > 1024n ? 1024n : count
      for (let i = 1; i < (percentiles?.length ?? 0); i++) {
        if (((percentiles as number[])[i] as number) < ((percentiles as number[])[i - 1] as number)) {
          throw invalidParams('invalid argument 2: reward percentiles must ascend')
        }
      }
      const last = await resolveBlock(ctx, newest)
      const blocks: Block[] = [last]
      while (BigInt(blocks.length) < n && (blocks[0] as Block).header.number > 0n) {
        const parent = await ctx.chain.getBlock((blocks[0] as Block).header.parentHash)
        if (!parent) break
        blocks.unshift(parent)
      }
      const baseFees = blocks.map((b) => toQuantity(b.header.baseFeePerGas ?? 0n))
      baseFees.push(toQuantity(await baseFeeAfter(ctx, last)))
      const out: Record<string, unknown> = {
        oldestBlock: toQuantity((blocks[0] as Block).header.number),
        baseFeePerGas: baseFees,
        gasUsedRatio: blocks.map((b) => Number(b.header.gasUsed) / Number(b.header.gasLimit)),
        // Zeroes before Cancun (no blob gas in the header), as the spec and geth give them.
        baseFeePerBlobGas: [
          ...blocks.map((b) => toQuantity(b.header.excessBlobGas === undefined ? 0n : b.header.getBlobGasPrice())),
          toQuantity(
            last.header.excessBlobGas === undefined ? 0n : last.header.calcNextBlobGasPrice(last.header.common),
          ),
        ],
        blobGasUsedRatio: blocks.map(blobGasUsedRatio),
      }
      if (percentiles) {
        out.reward = blocks.map((b) => {
          const baseFee = b.header.baseFeePerGas ?? 0n
          const tips = b.transactions.map((tx) => tipOf(tx, baseFee))
          return percentiles.map((p) => toQuantity(tips.length ? percentile(tips, p) : 0n))
        })
      }
      return out
    },
  }),
]
