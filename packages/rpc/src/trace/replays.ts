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
 * calls, more than tracing a short transaction; a kept one is reused when the next trace is of
 * the same or a later transaction of the same block (traces in order run no transaction twice);
 * an earlier one opens a new replay. A replay is exclusive while taken; one that failed or was
 * aborted mid-way is not given back. Keyed by block hash, and dropped when the state the block starts from is no
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
    return this.open(block)
  }

  /** A new replay of `block`, at its start. */
  async open(block: Block): Promise<ReplaySession> {
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
  let session = await pool.take(block)
  // A kept replay past `index` is not rewound: after a whole block's trace its rewind left the
  // block's transactions applied (rpc-compat's trace cases in a row: "nonce of 4, tx has 0"). A new
  // one is opened instead; traces in block order still reuse it.
  if (session.position > index) session = await pool.open(block)
  while (session.position < index) await session.next()
  const out = await fn(session)
  pool.give(session)
  return out
}
