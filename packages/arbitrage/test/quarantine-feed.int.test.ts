// A strategy process learns its executors' path reverts and trades from the store (PGlite): a
// recorded "quarantined: …" simulation quarantines the cycle here, an executed trade clears it, a
// failure that fed the breaker (no path revert) is not taken, and a record read twice counts once.
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from '../src/graph/token-graph.ts'
import { Quarantine } from '../src/risk/quarantine.ts'
import { QUARANTINED, QuarantineFeed } from '../src/service/quarantine-feed.ts'
import { ArbStore, type OpportunityRecord } from '../src/store/store.ts'
import { BACKENDS } from './store-backends.ts'

const tok = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as Address
const T0 = Date.UTC(2026, 10, 24, 12)

describe('QuarantineFeed (PGlite)', () => {
  let db: Awaited<ReturnType<(typeof BACKENDS)[number]['open']>>
  let store: ArbStore
  beforeAll(async () => {
    db = await BACKENDS.find((b) => b.name === 'pglite')!.open()
    store = new ArbStore(db.sql)
  })
  afterAll(async () => {
    await db?.close()
  })

  const record = (
    id: string,
    atMs: number,
    block: bigint,
    decision: string,
    detail: string | null,
  ): OpportunityRecord => ({
    id,
    at: new Date(atMs),
    block,
    cycleKey: 'cycle-1',
    baseToken: tok(0),
    tokens: [tok(0), tok(7), tok(0)],
    pools: [tok(100), tok(101)],
    amountIn: 10n,
    grossProfit: 3n,
    gasCost: 1n,
    netProfit: 2n,
    decision,
    detail,
  })

  it('takes path reverts and trades from the executors’ records, once each, within the window', async () => {
    let now = T0
    const quarantine = new Quarantine({}, { logger: silentLogger })
    const feed = new QuarantineFeed({ windowMs: 60_000 }, { store, quarantine, logger: silentLogger, now: () => now })
    const cycle = { key: 'cycle-1', tokens: [tok(0), tok(7), tok(0)] }
    // queued by the strategy, then decided by an executor (the same row updated)
    await store.recordOpportunity(record('o1', T0, 10n, 'queued', null))
    await store.recordOpportunity(record('o1', T0, 10n, 'simulation-failed', `${QUARANTINED}UniswapV2: K`))
    // a failure outside the path (it fed the executor's breaker) and one outside the window
    await store.recordOpportunity(record('o2', T0 + 1, 10n, 'simulation-failed', 'HTTP request failed'))
    await store.recordOpportunity(
      record('o0', T0 - 120_000, 1n, 'simulation-failed', `${QUARANTINED}InsufficientProfit`),
    )
    now = T0 + 2000
    expect(await feed.pull()).toBe(1)
    expect(quarantine.list(10n)).toMatchObject([
      { kind: 'cycle', key: 'cycle-1', strikes: 1, until: 12n, why: 'UniswapV2: K' },
    ])
    // read again inside the window: not a second strike
    expect(await feed.pull()).toBe(0)
    expect(quarantine.list(10n)).toMatchObject([{ strikes: 1 }])
    // an executed trade through the cycle clears it
    await store.recordOpportunity(record('o3', T0 + 3000, 12n, 'executed', '0xabc'))
    expect(await feed.pull()).toBe(1)
    expect(quarantine.blocked(cycle, 11n)).toBeNull()
    // and so does a clean simulation that fell below the minimum after gas
    await store.recordOpportunity(record('o4', T0 + 4000, 13n, 'simulation-failed', `${QUARANTINED}UniswapV2: K`))
    expect(await feed.pull()).toBe(1)
    expect(quarantine.blocked(cycle, 13n)).not.toBeNull()
    await store.recordOpportunity(record('o5', T0 + 5000, 13n, 'below-min-profit', 'net 5'))
    expect(await feed.pull()).toBe(1)
    expect(quarantine.blocked(cycle, 13n)).toBeNull()
  })
})
