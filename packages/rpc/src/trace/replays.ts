import { openReplay, type ReplaySession } from '@cairn/chain'
import { bytesToHex, equalsBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { LRUCache } from 'lru-cache'
import type { RpcContext } from '../context.ts'

/** Blocks whose idle replay is kept (one each): the few a test suite or a debugger traces in turn. */
const BLOCKS = 8

interface Kept {
  session: ReplaySession
  /** The state the block started from when the session was opened (a dev chain's head may be edited). */
  root: Uint8Array
}

/**
 * Replays of stored blocks kept between traces (debug_traceTransaction, debug_traceBlockBy*,
 * trace_transaction): a new one costs a VM (its opcode tables, its EVM) and the block's system
 * calls, more than tracing a short transaction; a kept one only rewinds what it ran, and not even
 * that when the next trace is of a later transaction of the same block (traces in order run no
 * transaction twice). A replay is exclusive while taken; one that failed or was aborted mid-way
 * is not given back. Keyed by block hash, and dropped when the state the block starts from is no
 * longer the one it was opened on.
 */
export class ReplayPool {
  private readonly idle = new LRUCache<string, Kept>({ max: BLOCKS })
  private readonly roots = new WeakMap<ReplaySession, Uint8Array>()

  constructor(private readonly ctx: RpcContext) {}

  /** A replay of `block` for the caller alone, at any position (see {@link ReplaySession.rewind}). */
  async take(block: Block): Promise<ReplaySession> {
    const key = bytesToHex(block.hash())
    const kept = this.idle.get(key)
    if (kept) {
      this.idle.delete(key)
      if (equalsBytes(this.ctx.chain.postStateRoot(kept.session.parent), kept.root)) return kept.session
    }
    const session = await openReplay(this.ctx.chain, block)
    this.roots.set(session, this.ctx.chain.postStateRoot(session.parent))
    return session
  }

  /** Gives back a replay that ran to completion (its VM has no tracer left attached). */
  give(session: ReplaySession): void {
    const root = this.roots.get(session)
    if (root) this.idle.set(bytesToHex(session.block.hash()), { session, root })
  }
}

const pools = new WeakMap<RpcContext, ReplayPool>()

/** The replay pool of a context (one per RPC context, created on first use). */
export function replays(ctx: RpcContext): ReplayPool {
  let pool = pools.get(ctx)
  if (!pool) {
    pool = new ReplayPool(ctx)
    pools.set(ctx, pool)
  }
  return pool
}

/**
 * Runs `fn` on a replay of `block` positioned at transaction `index` (0..index-1 run, untraced),
 * and gives the replay back when `fn` succeeds.
 */
export async function withReplayAt<T>(
  ctx: RpcContext,
  block: Block,
  index: number,
  fn: (session: ReplaySession) => Promise<T>,
): Promise<T> {
  const pool = replays(ctx)
  const session = await pool.take(block)
  if (session.position > index) await session.rewind()
  while (session.position < index) await session.next()
  const out = await fn(session)
  pool.give(session)
  return out
}
