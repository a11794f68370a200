import { bytesToHex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { LRUCache } from 'lru-cache'
import type { RpcContext } from '../context.ts'
import { blockCallTrees } from '../methods/debug-trace.ts'
import { type CallFrame, walkFrames } from './call-frames.ts'

/**
 * The address → transactions index of `trace_filter` and Otterscan's searches, derived lazily:
 * a block's call trees are made when a search first reaches it (one replay of the block under the
 * call tracer) and kept per block hash (a block's traces never change under its hash, so reorgs
 * and rewinds need no invalidation: a replaced block is simply no longer reached through the
 * canonical index). Blocks without transactions cost nothing. Not built at import: "touched in a
 * trace" needs every message of every transaction, i.e. a tracer on the import path of every node
 * for the few that browse addresses; Anvil scans its (in-memory) traces the same way.
 */

/** Per block hash: its transactions' call trees. ~1,000 blocks of transactions per node. */
const trees = new WeakMap<RpcContext, LRUCache<string, CallFrame[]>>()

export async function callTreesOf(ctx: RpcContext, block: Block): Promise<CallFrame[]> {
  if (block.transactions.length === 0) return []
  let cache = trees.get(ctx)
  if (!cache) {
    cache = new LRUCache({ max: 1024 })
    trees.set(ctx, cache)
  }
  const key = bytesToHex(block.hash())
  const hit = cache.get(key)
  if (hit) return hit
  const computed = await blockCallTrees(ctx, block)
  cache.set(key, computed)
  return computed
}

/**
 * Whether `address` (lower case) appears in a transaction's calls: as a sender, recipient or
 * created contract of any frame, or a self-destruct's beneficiary (Anvil's `mentions_address`).
 */
export function mentions(root: CallFrame, address: string): boolean {
  for (const { frame } of walkFrames(root)) {
    if (frame.from.toLowerCase() === address || frame.to?.toLowerCase() === address) return true
  }
  return false
}
