// The engine's decisions with the chain faked (unit tier): the breaker opens after consecutive
// simulations failed outside the path, a path revert quarantines its cycle instead, the gas price cap and the kill switch skip, a trade is refused when the
// simulated gas eats the profit, and an untaken opportunity is searched again without a new block.
import { KeysErrorCode } from '@cairn/keys'
import { CairnError, silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import type { PublicClient } from 'viem'
import { describe, expect, it, vi } from 'vitest'
import { ArbEngine, type ArbEngineModules, type RiskLimits } from '../src/engine.ts'
import { ArbErrorCode } from '../src/errors.ts'
import type { Execution, ExecutorClient, Simulation } from '../src/execution/executor.ts'
import { type Address, type PoolInfo, TokenGraph } from '../src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../src/math/v2.ts'
import { createArbMetrics } from '../src/metrics.ts'
import type { BlockUpdate, PoolTracker } from '../src/pools/tracker.ts'
import type { Opportunity } from '../src/strategy/search.ts'

const tok = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as Address
const poolAddr = (i: number) => `0x${(0xa000 + i).toString(16).padStart(40, '0')}` as Address
const pool = (i: number, t0: number, t1: number, r0: bigint, r1: bigint): PoolInfo => ({
  address: poolAddr(i),
  token0: tok(t0),
  token1: tok(t1),
  fee: UNISWAP_V2_FEE,
  reserve0: r0,
  reserve1: r1,
})

function setup(opts: {
  sim: (o: Opportunity) => Simulation
  limits?: Partial<RiskLimits>
  baseFee?: bigint
  killed?: () => boolean
  extra?: Partial<ArbEngineModules>
  failSend?: () => boolean | Error
  maxSized?: number
  /** Pools beside the default two (a mispriced pair 1, 2 between tokens 0 and 1). */
  morePools?: PoolInfo[]
  /** How mined trades end (default success). */
  status?: () => 'success' | 'reverted'
  /** What the replay of a reverted trade says (default: nothing, it could not replay). */
  revertReason?: () => Awaited<ReturnType<ExecutorClient['revertReason']>>
  /** Receipts wait for this (default: at once). */
  receipts?: Promise<void>
  /** Probes learn every token's transfer fee (0): a batch may then plan trades through the same pools. */
  probe?: boolean
  now?: () => number
  breakerCooldownMs?: number
}) {
  const graph = new TokenGraph({ base: tok(0), maxHops: 2 })
  graph.addPool(pool(1, 0, 1, 10n ** 21n, 2n * 10n ** 21n))
  graph.addPool(pool(2, 0, 1, 10n ** 21n, 10n ** 21n))
  for (const p of opts.morePools ?? []) graph.addPool(p)
  let pending: BlockUpdate[] = [{ number: 1n, hash: '0x01', changed: new Set([poolAddr(1)]), created: [] }]
  const tracker = {
    poll: async () => {
      const out = pending
      pending = []
      return out
    },
  } as unknown as PoolTracker
  const sent: bigint[] = []
  const nonces: (number | undefined)[] = []
  const execute = async (_g: unknown, _o: unknown, minProfit: bigint, tx: { nonce?: number }): Promise<Execution> => {
    const fail = opts.failSend?.()
    if (fail instanceof Error) throw fail
    if (fail) throw new Error('nonce too low')
    sent.push(minProfit)
    nonces.push(tx.nonce)
    const status = opts.status?.() ?? 'success'
    return {
      hash: `0x${(0x1000 + sent.length).toString(16)}`,
      status,
      gasUsed: 1n,
      effectiveGasPrice: 1n,
      profit: status === 'success' ? 1n : 0n,
      blockNumber: 2n,
    }
  }
  /** simulateAfter's calls: the calldata of the trades it ran first. */
  const bundles: `0x${string}`[][] = []
  const executor = {
    funding: 'flash',
    simulate: async (_g: unknown, o: Opportunity) => opts.sim(o),
    execute,
    submit: async (g: unknown, o: unknown, minProfit: bigint, tx: { nonce?: number }) => {
      const x = await execute(g, o, minProfit, tx)
      return {
        hash: x.hash,
        data: `0xda7a${x.hash.slice(2)}`,
        wait: async () => {
          await opts.receipts
          return x
        },
      }
    },
    revertReason: async () => opts.revertReason?.() ?? {},
    simulateAfter: async (_g: unknown, o: Opportunity, _m: bigint, before: `0x${string}`[]) => {
      bundles.push([...before])
      return opts.sim(o)
    },
    ...(opts.probe
      ? { probe: async (_g: unknown, o: Opportunity) => ({ ok: true, profit: o.grossProfit, gas: 0n, flash: true }) }
      : {}),
    settle: (_o: unknown, s: { wait: () => Promise<Execution> }) => s.wait(),
  } as unknown as ExecutorClient
  const baseFee = opts.baseFee ?? 10n ** 9n
  const pub = {
    estimateFeesPerGas: async () => ({ maxFeePerGas: baseFee * 2n + 1n, maxPriorityFeePerGas: 1n }),
    // the fake chain never moves on between a search and its sends
    getBlockNumber: async () => 0n,
    // nothing sent is mined before its receipt comes
    getTransactionReceipt: async () => {
      throw new Error('not mined')
    },
    readContract: async ({ address }: { address: Address }) => {
      const p = graph.pool(address)!
      return [p.reserve0, p.reserve1, 0]
    },
  } as unknown as PublicClient
  const engine = new ArbEngine(
    {
      limits: { minProfit: 10n ** 15n, ...opts.limits },
      tip: 10n ** 9n,
      ...(opts.maxSized !== undefined ? { maxSized: opts.maxSized } : {}),
      ...(opts.breakerCooldownMs !== undefined ? { breakerCooldownMs: opts.breakerCooldownMs } : {}),
    },
    {
      graph,
      tracker,
      executor,
      public: pub,
      logger: silentLogger,
      ...(opts.killed ? { killed: opts.killed } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      ...opts.extra,
    },
  )
  return { engine, graph, sent, nonces, bundles, newBlock: (u: BlockUpdate) => pending.push(u) }
}

describe('ArbEngine decisions', () => {
  it('opens the breaker after consecutive simulations that fail outside the path (RPC, executor refusals), then skips until reset', async () => {
    for (const failure of [{ reason: 'HTTP request failed' }, { reason: 'reverted', revert: 'NotOwner' }]) {
      const { engine, newBlock } = setup({ sim: () => ({ ok: false, ...failure }) })
      const kinds: string[] = []
      for (let i = 0; i < 5; i++) {
        if (i > 0) newBlock({ number: BigInt(i + 1), hash: '0x01', changed: new Set([poolAddr(1)]), created: [] })
        kinds.push(...(await engine.step()).decisions.map((d) => (d.kind === 'skipped' ? `skipped:${d.why}` : d.kind)))
      }
      expect(kinds).toEqual([
        'simulation-failed',
        'simulation-failed',
        'simulation-failed',
        'skipped:breaker-open',
        'skipped:breaker-open',
      ])
      expect(engine.breakerOpen).toBe(true)
      expect(engine.quarantine.list(engine.block)).toEqual([])
      engine.resetBreaker()
      expect((await engine.trade()).decisions[0]!.kind).toBe('simulation-failed')
    }
  })

  it('a simulation the path reverts quarantines its cycle (sits out 2, then 4 blocks), never opens the breaker, and a success clears it', async () => {
    let sim: Simulation = { ok: false, reason: 'reverted', revert: 'UniswapV2: K' }
    const registry = new Registry()
    const { engine, newBlock, sent } = setup({ sim: () => sim, extra: { metrics: createArbMetrics(registry) } })
    const at = (n: number) =>
      newBlock({ number: BigInt(n), hash: '0x01', changed: new Set([poolAddr(1)]), created: [] })
    const kinds: string[] = []
    const step = async (n?: number) => {
      if (n !== undefined) at(n)
      const r = await engine.step()
      const sitting = engine.quarantine.list(engine.block).length > 0
      kinds.push(r.decisions.map((d) => d.kind).join(',') || (sitting ? 'sat-out' : 'none'))
    }
    await step() // block 1: fails → sits out blocks 1-2
    await step(2)
    await step(3) // fails again → sits out 3-6
    expect(engine.quarantine.list(3n)).toMatchObject([{ kind: 'cycle', strikes: 2, until: 7n, why: 'UniswapV2: K' }])
    expect(await registry.getSingleMetricAsString('cairn_arb_quarantined')).toMatch(/kind="cycle"} 1/)
    for (const n of [4, 5, 6]) await step(n)
    sim = { ok: true, profit: 10n ** 20n, gas: 100_000n }
    await step(7)
    expect(kinds).toEqual([
      'simulation-failed',
      'sat-out',
      'simulation-failed',
      'sat-out',
      'sat-out',
      'sat-out',
      'executed',
    ])
    expect(engine.breakerOpen).toBe(false)
    expect(sent).toHaveLength(1)
    expect(engine.quarantine.list(7n)).toEqual([])
    expect(await registry.getSingleMetricAsString('cairn_arb_quarantined')).toMatch(/kind="cycle"} 0/)
    expect(await registry.getSingleMetricAsString('cairn_arb_quarantines_total')).toMatch(/kind="cycle"} 2/)
    // in good standing again: the next path revert starts over at 2 blocks
    sim = { ok: false, reason: 'reverted', revert: 'InsufficientProfit' }
    await step(8)
    expect(engine.quarantine.list(8n)).toMatchObject([{ kind: 'cycle', strikes: 1, until: 10n }])
  })

  it('opens the breaker at once when a trade is stuck past its deadline (it holds the nonce), not after three', async () => {
    let stuck = true
    const { engine, sent } = setup({
      sim: () => ({ ok: true, profit: 10n ** 20n, gas: 100_000n }),
      failSend: () =>
        stuck &&
        new CairnError(ArbErrorCode.TRADE_STUCK, 'trade 0x02 not mined within 180 s (nonce 7)', {
          fault: 'transient',
          meta: { hash: '0x02', nonce: 7, waitedMs: 180_000 },
        }),
    })
    expect((await engine.step()).decisions).toMatchObject([
      { kind: 'send-failed', error: expect.stringMatching(/not mined/) },
    ])
    expect(engine.breakerOpen).toBe(true)
    stuck = false
    expect((await engine.trade()).decisions).toMatchObject([{ kind: 'skipped', why: 'breaker-open' }])
    expect(sent).toEqual([])
    engine.resetBreaker()
    expect((await engine.trade()).decisions).toMatchObject([{ kind: 'executed' }])
  })

  it("opens the breaker at once when the remote signer's policy refuses a trade (wrapped as viem wraps it)", async () => {
    let refuse = true
    const { engine, sent } = setup({
      sim: () => ({ ok: true, profit: 10n ** 20n, gas: 100_000n }),
      failSend: () =>
        refuse &&
        new Error('Transaction creation failed.', {
          cause: new CairnError(
            KeysErrorCode.SIGNER_REFUSED,
            'the remote signer refused the transaction: a call to 0x… with selector 0xd37ae047 is not allowed',
            { fault: 'caller' },
          ),
        }),
    })
    expect((await engine.step()).decisions).toMatchObject([
      { kind: 'send-failed', error: expect.stringMatching(/Transaction creation failed/) },
    ])
    expect(engine.breakerOpen).toBe(true)
    refuse = false
    expect((await engine.trade()).decisions).toMatchObject([{ kind: 'skipped', why: 'breaker-open' }])
    expect(sent).toEqual([])
    engine.resetBreaker()
    expect((await engine.trade()).decisions).toMatchObject([{ kind: 'executed' }])
    // Any other send error counts as one failure of three.
    const plain = setup({ sim: () => ({ ok: true, profit: 10n ** 20n, gas: 100_000n }), failSend: () => true })
    await plain.engine.step()
    expect(plain.engine.breakerOpen).toBe(false)
  })

  it('a revert its replay shows lost a race (the pools moved first) is not a fault; an unexplained one is', async () => {
    let reason: Awaited<ReturnType<ExecutorClient['revertReason']>> = {
      revert: 'InsufficientProfit',
      evidence: { kind: 'insufficient-profit', before: 0n, after: 1n, minProfit: 2n },
    }
    const registry = new Registry()
    const { engine, newBlock } = setup({
      sim: () => ({ ok: true, profit: 10n ** 20n, gas: 100_000n }),
      status: () => 'reverted',
      revertReason: () => reason,
      extra: { metrics: createArbMetrics(registry) },
    })
    const step = async (n: number) => {
      if (n > 1) newBlock({ number: BigInt(n), hash: '0x01', changed: new Set([poolAddr(1)]), created: [] })
      return (await engine.step()).decisions
    }
    for (let n = 1; n <= 5; n++) expect(await step(n)).toMatchObject([{ kind: 'executed', lostRace: true }])
    expect(engine.breakerOpen).toBe(false)
    reason = {}
    for (let n = 6; n <= 8; n++) expect(await step(n)).toMatchObject([{ kind: 'executed', lostRace: false }])
    expect(engine.breakerOpen).toBe(true)
    const failures = await registry.getSingleMetricAsString('cairn_arb_trade_failures_total')
    expect(failures).toContain('cairn_arb_trade_failures_total{kind="lost_race"} 5')
    expect(failures).toContain('cairn_arb_trade_failures_total{kind="fault"} 3')
  })

  it('the breaker turns half-open after its cooldown: one trial trade goes, and closes it when it lands', async () => {
    let now = 0
    let sim: Simulation = { ok: false, reason: 'HTTP request failed' }
    const registry = new Registry()
    const { engine, newBlock, sent } = setup({
      sim: () => sim,
      now: () => now,
      breakerCooldownMs: 60_000,
      extra: { metrics: createArbMetrics(registry) },
    })
    const step = async (n: number) => {
      if (n > 1) newBlock({ number: BigInt(n), hash: '0x01', changed: new Set([poolAddr(1)]), created: [] })
      return (await engine.step()).decisions.map((d) => (d.kind === 'skipped' ? `skipped:${d.why}` : d.kind))
    }
    for (let n = 1; n <= 3; n++) await step(n)
    expect(engine.breakerState).toBe('open')
    sim = { ok: true, profit: 10n ** 20n, gas: 100_000n }
    now += 59_000
    expect(await step(4)).toEqual(['skipped:breaker-open'])
    now += 1_000
    expect(engine.breakerState).toBe('half-open')
    expect(await step(5)).toEqual(['executed'])
    expect(engine.breakerState).toBe('closed')
    expect(sent).toHaveLength(1)
    const transitions = await registry.getSingleMetricAsString('cairn_arb_breaker_transitions_total')
    expect(transitions).toContain('{to="open"} 1')
    expect(transitions).toContain('{to="half_open"} 1')
    expect(transitions).toContain('{to="closed"} 1')
    expect(await registry.getSingleMetricAsString('cairn_arb_breaker_open')).toContain('cairn_arb_breaker_open 0')
  })

  it("simulates a trade through a pool one of its unmined trades moves after that trade (a bundle), never on the plan's word", async () => {
    let release = () => {}
    const receipts = new Promise<void>((r) => {
      release = r
    })
    const { engine, bundles, sent } = setup({
      sim: (o) => ({ ok: true, profit: o.grossProfit, gas: 100_000n }),
      limits: { maxTradesPerBlock: 2, minProfit: 1n },
      probe: true,
      receipts,
      // a third pool between tokens 0 and 1: two cycles through pool 1 both pay
      morePools: [pool(3, 0, 1, 10n ** 21n, 15n * 10n ** 20n)],
    })
    const trading = engine.step()
    // both sent before either receipt: the second was simulated after the first
    await vi.waitFor(() => expect(sent).toHaveLength(2))
    expect(bundles).toEqual([['0xda7a1001']])
    release()
    expect((await trading).decisions).toMatchObject([{ kind: 'executed' }, { kind: 'executed' }])
  })

  it('skips above the gas price cap and while killed; refuses when the simulated gas eats the profit', async () => {
    const capped = setup({
      sim: () => ({ ok: true, profit: 10n ** 20n, gas: 200_000n }),
      limits: { gasPriceCap: 10n ** 9n },
    })
    expect((await capped.engine.step()).decisions).toMatchObject([{ kind: 'skipped', why: 'gas-price-cap' }])
    const killed = setup({ sim: () => ({ ok: true, profit: 10n ** 20n, gas: 200_000n }), killed: () => true })
    expect((await killed.engine.step()).decisions).toMatchObject([{ kind: 'skipped', why: 'killed' }])
    expect(killed.sent).toEqual([])
    // simulated profit 1e15 + a little, but 10M gas at ~3 gwei costs 3e16
    const thin = setup({ sim: () => ({ ok: true, profit: 10n ** 15n + 1n, gas: 10_000_000n }) })
    expect((await thin.engine.step()).decisions).toMatchObject([{ kind: 'below-min-profit' }])
    expect(thin.sent).toEqual([])
  })

  it('sends with the contract minimum = gas at the limit priced at the max fee + minProfit', async () => {
    const { engine, sent } = setup({ sim: () => ({ ok: true, profit: 10n ** 20n, gas: 100_000n }) })
    const r = await engine.step()
    expect(r.decisions[0]!.kind).toBe('executed')
    // limit = 100k·1.2 + 2·45k = 210k; max fee = 2·1e9 + 1 − 1 + 1e9 (tip) = 3e9
    expect(sent).toEqual([210_000n * 3_000_000_000n + 10n ** 15n])
  })

  it('searches an untaken opportunity again on the next step, with no block touching its pools', async () => {
    const { engine, newBlock } = setup({
      sim: () => ({ ok: true, profit: 10n ** 20n, gas: 100_000n }),
      killed: (() => {
        let n = 0
        return () => n++ < 1 // killed for the first check only
      })(),
    })
    expect((await engine.step()).decisions).toMatchObject([{ kind: 'skipped', why: 'killed' }])
    newBlock({ number: 2n, hash: '0x03', changed: new Set(), created: [] })
    const again = await engine.step()
    expect(again.decisions).toMatchObject([{ kind: 'executed' }])
  })

  it("sizes only the float look's best maxSized candidates and searches the rest again next step", async () => {
    const { engine, graph, newBlock } = setup({
      sim: () => ({ ok: true, profit: 10n ** 20n, gas: 100_000n }),
      maxSized: 1,
      // a second, larger mispricing between tokens 0 and 2
      morePools: [pool(3, 0, 2, 10n ** 21n, 3n * 10n ** 21n), pool(4, 0, 2, 10n ** 21n, 10n ** 21n)],
    })
    newBlock({ number: 1n, hash: '0x01', changed: new Set([poolAddr(3)]), created: [] })
    const first = await engine.step()
    expect(first.found.map((o) => o.cycle.pools)).toEqual([[poolAddr(3), poolAddr(4)]])
    expect(first.decisions).toMatchObject([{ kind: 'executed' }])
    // the trade evened pools 3 and 4; a block touches nothing: the candidate left unsized is searched again
    graph.setReserves(poolAddr(3), 10n ** 21n, 10n ** 21n)
    newBlock({ number: 2n, hash: '0x02', changed: new Set(), created: [] })
    const second = await engine.step()
    expect(second.found.map((o) => o.cycle.pools)).toEqual([[poolAddr(1), poolAddr(2)]])
    expect(second.decisions).toMatchObject([{ kind: 'executed' }])
  })

  it('a quarantined cycle takes none of the maxSized places: the next best is sized and traded', async () => {
    const { engine, newBlock } = setup({
      // the cycle through pool 3 (the larger mispricing) reverts in the path
      sim: (o) =>
        o.cycle.pools.includes(poolAddr(3))
          ? { ok: false, reason: 'reverted', revert: 'UniswapV2: K' }
          : { ok: true, profit: 10n ** 20n, gas: 100_000n },
      maxSized: 1,
      morePools: [pool(3, 0, 2, 10n ** 21n, 3n * 10n ** 21n), pool(4, 0, 2, 10n ** 21n, 10n ** 21n)],
    })
    newBlock({ number: 1n, hash: '0x01', changed: new Set([poolAddr(3)]), created: [] })
    expect((await engine.step()).decisions).toMatchObject([{ kind: 'simulation-failed', quarantined: true }])
    newBlock({ number: 2n, hash: '0x02', changed: new Set([poolAddr(3)]), created: [] })
    const next = await engine.step()
    expect(next.found.map((o) => o.cycle.pools)).toEqual([[poolAddr(1), poolAddr(2)]])
    expect(next.decisions).toMatchObject([{ kind: 'executed' }])
    // its sit-out over (2 blocks), the quarantined cycle is back without a block touching its pools
    newBlock({ number: 3n, hash: '0x03', changed: new Set(), created: [] })
    expect((await engine.step()).found.map((o) => o.cycle.pools)).toContainEqual([poolAddr(3), poolAddr(4)])
  })

  it('asks the risk hooks, takes nonces from the nonce source, reads limits live, and resyncs after a failed send', async () => {
    const events: string[] = []
    let refuse: string | null = 'exposure'
    let limits: RiskLimits = { minProfit: 10n ** 15n }
    let next = 40
    let fail = false
    const { engine, sent, nonces } = setup({
      sim: () => ({ ok: true, profit: 10n ** 20n, gas: 200_000n }),
      failSend: () => fail,
      extra: {
        limits: () => limits,
        risk: {
          allow: () => refuse,
          sent: () => void events.push('sent'),
          settled: (_o, realized) => void events.push(`settled:${realized}`),
        },
        nonces: {
          next: async () => next++,
          settled: (n) => void events.push(`nonce-settled:${n}`),
          resync: async () => void events.push('resync'),
        },
      },
    })
    expect((await engine.step()).decisions).toMatchObject([{ kind: 'skipped', why: 'risk', detail: 'exposure' }])
    refuse = null
    limits = { minProfit: 10n ** 30n } // raised live: nothing clears it any more
    expect((await engine.trade()).decisions).toEqual([])
    limits = { minProfit: 10n ** 15n }
    expect((await engine.trade()).decisions).toMatchObject([{ kind: 'executed' }])
    expect(nonces).toEqual([40])
    fail = true
    expect((await engine.trade()).decisions).toMatchObject([{ kind: 'send-failed', error: 'nonce too low' }])
    expect(sent).toHaveLength(1)
    // realised = profit 1 − gas 1×1 = 0 for the fake receipt; a failed send settles with 0 and resyncs
    expect(events).toEqual(['sent', 'nonce-settled:40', 'settled:0', 'sent', 'settled:0', 'resync'])
  })
})
