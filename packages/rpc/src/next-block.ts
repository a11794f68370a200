import { nextBlockHeader } from '@cairn/consensus'
import { bytesToHex } from '@cairn/utils'
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
