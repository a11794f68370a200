// A strategy process that does not execute (role `strategy`) learns of its executors' simulations
// from the store they record decisions in: a path revert ("quarantined: …") quarantines the cycle
// here too, and a clean simulation (a trade executed, or one below the minimum after gas) clears it, so the strategy stops queuing what its executors
// cannot trade. A process that executes itself (role `all`) has this from its own engine.
import type { Logger } from '@cairn/utils'
import { LRUCache } from 'lru-cache'
import type { Quarantine } from '../risk/quarantine.ts'
import type { ArbStore } from '../store/store.ts'

/** The detail an executor records for a simulation the path reverted: this, then the revert. */
export const QUARANTINED = 'quarantined: '

export interface QuarantineFeedOptions {
  /**
   * How far back (by when the strategy saw the block) to look: an executor decides within a few
   * blocks of it or records the opportunity stale. Default 120,000 ms.
   */
  windowMs?: number
}

export class QuarantineFeed {
  /** Decisions already applied (records are read again while inside the window). */
  private readonly applied = new LRUCache<string, true>({ max: 10_000 })

  constructor(
    private readonly opts: QuarantineFeedOptions,
    private readonly modules: { store: ArbStore; quarantine: Quarantine; logger: Logger; now: () => number },
  ) {}

  /** Applies the executors' decisions recorded since the last pull; how many were new. */
  async pull(): Promise<number> {
    const { store, quarantine } = this.modules
    const since = new Date(this.modules.now() - (this.opts.windowMs ?? 120_000))
    const records = await store.listOpportunities({
      since,
      decision: ['simulation-failed', 'executed', 'below-min-profit'],
      limit: 1000,
    })
    let n = 0
    // oldest first, as they happened
    for (const r of records.reverse()) {
      const key = `${r.id}/${r.decision}`
      if (this.applied.has(key)) continue
      this.applied.set(key, true)
      const cycle = { key: r.cycleKey, tokens: r.tokens as `0x${string}`[] }
      if (r.decision !== 'simulation-failed') quarantine.succeeded(cycle, r.block)
      else if (r.detail?.startsWith(QUARANTINED)) {
        const why = r.detail.slice(QUARANTINED.length)
        // the engine's text of evidence against a token: "token 0x… refused: …"
        const blame = /^token (0x[0-9a-f]{40}) refused/.exec(why)?.[1] as `0x${string}` | undefined
        quarantine.failed(cycle, r.block, why, blame ?? null)
      } else continue
      n++
    }
    return n
  }
}
