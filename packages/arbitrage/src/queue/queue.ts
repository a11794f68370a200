// Where the strategy puts opportunities and executors take them: an in-process queue (the embedded
// default) or a NATS JetStream work queue (nats-queue.ts) shared by executor processes. Either way
// an executor first claims the opportunity's id (`Claims`): a redelivered or twice-published
// opportunity is executed at most once.
import type { QueuedOpportunity } from './message.ts'

/** Handles one opportunity; resolving acknowledges it, throwing lets the queue deliver it again. */
export type OpportunityHandler = (q: QueuedOpportunity) => Promise<void>

export interface OpportunityQueue {
  readonly kind: 'memory' | 'nats'
  publish(q: QueuedOpportunity): Promise<void>
  /** Starts taking opportunities; resolves to a function that stops (waiting for the one in hand). */
  consume(handler: OpportunityHandler): Promise<() => Promise<void>>
  close(): Promise<void>
}

/**
 * The idempotency record: true for the first claim of an id, false for every later one. A claim
 * whose opportunity was not sent (killed, refused, stale) is released, so the same opportunity
 * found again later may still be taken; one that was sent is never released.
 */
export interface Claims {
  claim(id: string, owner: string): Promise<boolean>
  release(id: string, owner: string): Promise<void>
}

export class MemoryClaims implements Claims {
  private readonly seen = new Map<string, string>()
  async claim(id: string, owner: string): Promise<boolean> {
    if (this.seen.has(id)) return false
    this.seen.set(id, owner)
    return true
  }

  async release(id: string, owner: string): Promise<void> {
    if (this.seen.get(id) === owner) this.seen.delete(id)
  }
}

/** Handles a claimed opportunity: true when it was sent (the claim stands), false to release it. */
export type ClaimedHandler = (q: QueuedOpportunity) => Promise<boolean>

/**
 * Wraps a handler with the claim: an id already claimed (by this or another executor) is
 * acknowledged without running (`onDuplicate` counts them); a claim whose handler did not send
 * (returned false) is released. A handler that throws keeps its claim: whether it sent is unknown.
 */
export function claimed(
  claims: Claims,
  owner: string,
  handler: ClaimedHandler,
  onDuplicate?: (q: QueuedOpportunity) => void,
): OpportunityHandler {
  return async (q) => {
    if (!(await claims.claim(q.id, owner))) {
      onDuplicate?.(q)
      return
    }
    if (!(await handler(q))) await claims.release(q.id, owner)
  }
}

/** The embedded queue: FIFO in memory, taken in order by up to `concurrency` handlers at once. */
export class MemoryQueue implements OpportunityQueue {
  readonly kind = 'memory'
  private readonly items: QueuedOpportunity[] = []
  private handler: OpportunityHandler | null = null
  private readonly lanes = new Set<Promise<void>>()
  private readonly concurrency: number

  /**
   * `concurrency`: opportunities handled at once (default 1: in order, one after another). The
   * service gives `maxTradesPerBlock`: the engine serialises each trade's simulation and send and
   * waits for the receipts together, so a block's trades go out in one block with consecutive nonces.
   */
  constructor(opts: { concurrency?: number } = {}) {
    this.concurrency = Math.max(1, opts.concurrency ?? 1)
  }

  async publish(q: QueuedOpportunity): Promise<void> {
    this.items.push(q)
    this.pump()
  }

  /** Opportunities waiting. */
  get depth(): number {
    return this.items.length
  }

  private pump(): void {
    const h = this.handler
    if (!h) return
    // one more lane per waiting opportunity, up to `concurrency`
    while (this.lanes.size < this.concurrency && this.items.length > this.lanes.size) {
      const lane: Promise<void> = (async () => {
        while (this.items.length > 0 && this.handler === h) {
          const q = this.items.shift()!
          try {
            await h(q)
          } catch {
            // the handler logs its own failures; an opportunity is not worth retrying once stale
          }
        }
      })().finally(() => {
        this.lanes.delete(lane)
        if (this.items.length > 0 && this.handler) this.pump()
      })
      this.lanes.add(lane)
    }
  }

  /** Resolves once everything published so far has been handled. */
  async drained(): Promise<void> {
    while (this.lanes.size > 0) await Promise.all(this.lanes)
  }

  async consume(handler: OpportunityHandler): Promise<() => Promise<void>> {
    this.handler = handler
    this.pump()
    return async () => {
      this.handler = null
      await Promise.all(this.lanes)
    }
  }

  async close(): Promise<void> {
    this.handler = null
    await Promise.all(this.lanes)
  }
}
