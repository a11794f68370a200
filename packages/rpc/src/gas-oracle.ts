import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { RpcContext } from './context.ts'

const BLOCKS = 20
const PERCENTILE = 60
const DEFAULT_TIP = 1_000_000_000n

let cache: { head: string; tip: bigint } | undefined

/**
 * The suggested priority fee: the 60th percentile of the tips paid in the last 20 blocks (geth's
 * oracle), or 1 gwei when those blocks carried no transactions.
 */
export async function suggestTip(ctx: RpcContext): Promise<bigint> {
  const head = ctx.chain.head
  const key = Buffer.from(head.hash()).toString('hex')
  if (cache?.head === key) return cache.tip
  const tips: bigint[] = []
  let block: Block | undefined = head
  for (let i = 0; i < BLOCKS && block && block.header.number > 0n; i++) {
    const baseFee = block.header.baseFeePerGas ?? 0n
    for (const tx of block.transactions) tips.push(tipOf(tx, baseFee))
    block = await ctx.chain.getBlock(block.header.parentHash)
  }
  const tip = tips.length === 0 ? DEFAULT_TIP : percentile(tips, PERCENTILE)
  cache = { head: key, tip }
  return tip
}

export function tipOf(tx: TypedTransaction, baseFee: bigint): bigint {
  return tx.getEffectivePriorityFee(baseFee)
}

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values: bigint[], p: number): bigint {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx] ?? 0n
}
