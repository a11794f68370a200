import { nextBlockHeader } from '@cairn/consensus'
import { bytesToHex, equalsBytes } from '@cairn/utils'
import { type Block, createBlock } from '@ethereumjs/block'
import type { RpcContext } from './context.ts'

/** The last next-block computed per context: estimates in a burst share it. */
const last = new WeakMap<RpcContext, { key: string; block: Block }>()

/**
 * The block a transaction sent now would be mined in, on top of `parent`: the engine's choice of
 * timestamp, coinbase, prevRandao (`ctx.producer.nextBlockEnv`, the function the engine seals with)
 * and what the chain's rules derive from the parent (number + 1, gas limit, base fee, excess blob
 * gas: `nextBlockHeader`). Gas estimates, `pending` calls and eth_sendTransaction's estimate run in
 * it. Its roots are those of an empty block; nothing caches calls by its hash (it changes as time
 * passes).
 */
export function nextBlock(ctx: RpcContext, parent: Block): Block {
  const env = ctx.producer.nextBlockEnv(parent)
  const key = `${bytesToHex(parent.hash())} ${env.timestamp} ${env.coinbase ? bytesToHex(env.coinbase) : ''} ${env.mixHash ? bytesToHex(env.mixHash) : ''} ${env.gasLimit ?? ''} ${env.baseFeePerGas ?? ''} ${env.difficulty ?? ''}`
  const known = last.get(ctx)
  if (known?.key === key) return known.block
  // The rules of the next block's fork (a fork may start at its number or timestamp).
  const p = parent.header
  const common = ctx.chain.commons.at({
    number: p.number + 1n,
    timestamp: env.timestamp,
    difficulty: env.difficulty ?? (p.difficulty === 0n ? 0n : 1n),
  })
  const header = nextBlockHeader(parent, env, common)
  const block = createBlock({ header }, { common, skipConsensusFormatValidation: true })
  last.set(ctx, { key, block })
  return block
}

/**
 * The base fee of the block after `block` (0 before London): the child's own when it is stored
 * (a past block), else the engine's choice for the next block (`nextBlockEnv`: governance may raise
 * EIP-1559's to a floor), else EIP-1559's. `eth_gasPrice`, `eth_baseFee` and `eth_feeHistory` use it.
 */
export async function baseFeeAfter(ctx: RpcContext, block: Block): Promise<bigint> {
  const h = block.header
  if (h.baseFeePerGas === undefined) return 0n
  if (h.number < ctx.chain.head.header.number) {
    const child = await ctx.chain.getBlockByNumber(h.number + 1n)
    if (child !== undefined && equalsBytes(child.header.parentHash, block.hash())) {
      return child.header.baseFeePerGas ?? h.calcNextBaseFee()
    }
  }
  return ctx.producer.nextBlockEnv(block).baseFeePerGas ?? h.calcNextBaseFee()
}
