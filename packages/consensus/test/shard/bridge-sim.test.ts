/** The bridge's seeded simulator (`bridge-sim.ts`): invariants under cheating relayers, then a drain. */
import { describe, expect, it } from 'vitest'
import { runBridgeSim } from './bridge-sim.ts'

describe('the bridge simulator', () => {
  it('keeps supply, exactly-once, order and proof checks over 12 seeds of 3 shards', async () => {
    const totals = { sent: 0, delivered: 0, refunded: 0, refusals: 0, codes: new Set<string>() }
    for (let seed = 1; seed <= 12; seed++) {
      const r = await runBridgeSim(seed, { shards: 3, steps: 150 })
      totals.sent += r.sent
      totals.delivered += r.delivered
      totals.refunded += r.refunded
      for (const [code, n] of Object.entries(r.refusals)) {
        totals.refusals += n
        totals.codes.add(code)
      }
    }
    // Not vacuous: messages went each way, some expired or failed and were refunded, and the
    // relayers' cheats were each met with their own refusal.
    expect(totals.sent).toBeGreaterThan(200)
    expect(totals.delivered).toBeGreaterThan(100)
    expect(totals.refunded).toBeGreaterThan(10)
    expect([...totals.codes].sort()).toEqual([
      'CONSENSUS_SHARD_INVALID_PROOF',
      'CONSENSUS_SHARD_NOT_PENDING',
      'CONSENSUS_SHARD_OUT_OF_ORDER',
      'CONSENSUS_SHARD_REPLAYED',
    ])
  }, 120_000)
})
