// Tokens a plain constant-product model gets wrong, on a real chain with Uniswap V2 from its
// published bytecode: a fee-on-transfer token (1% burned per transfer) is traded through
// ArbExecutor, which swaps what reached each pair, at the profit the simulation reports (less
// than the fee-blind model's), flash or own balance, never at a loss; a honeypot (the pairs may
// not send it out) makes every cycle through it revert, and the engine quarantines those cycles,
// then the token, keeps its breaker closed and trades a plain cycle beside it.
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ArbEngine } from '../../packages/arbitrage/src/engine.ts'
import { ExecutorClient, gasLimitFor } from '../../packages/arbitrage/src/execution/executor.ts'
import { type Address, TokenGraph } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../../packages/arbitrage/src/math/v2.ts'
import { createArbMetrics } from '../../packages/arbitrage/src/metrics.ts'
import { PoolTracker } from '../../packages/arbitrage/src/pools/tracker.ts'
import { findOpportunities } from '../../packages/arbitrage/src/strategy/search.ts'
import {
  addLiquidity,
  balanceOf,
  blockSender,
  createPair,
  deployExecutor,
  deployFactory,
  deployFeeToken,
  deployToken,
  onEachChain,
  swap,
  type TestChain,
  transfer,
} from './chain-harness.ts'

const E18 = 10n ** 18n

function feeOnTransferSuite(name: string, start: () => Promise<TestChain>) {
  describe(`fee-on-transfer and honeypot tokens on ${name}`, () => {
    let c: TestChain
    let W: Address // the base token
    let F: Address // 1% burned on every transfer
    let H: Address // the pairs holding it may not send it
    let A: Address
    let executor: Address
    let graph: TokenGraph
    let tracker: PoolTracker
    const pool: Record<string, Address> = {}
    let flashClient: ExecutorClient
    let ownClient: ExecutorClient
    let flat: string

    beforeAll(async () => {
      c = await start()
      const [f1, f2, f3] = [await deployFactory(c), await deployFactory(c), await deployFactory(c)]
      W = await deployToken(c, 10n ** 12n * E18)
      A = await deployToken(c, 10n ** 12n * E18)
      F = await deployFeeToken(c, 10n ** 12n * E18, 100n)
      H = await deployFeeToken(c, 10n ** 12n * E18, 0n)
      const market = c.accounts[2]!.address.toLowerCase() as Address
      for (const t of [W, A, H]) await transfer(c, 0, t, market, 10n ** 9n * E18)
      for (const [key, f, x, y] of [
        ['WF1', f1, W, F],
        ['WF2', f2, W, F],
        ['WH1', f1, W, H],
        ['WH2', f2, W, H],
        ['WH3', f3, W, H],
        ['WA1', f1, W, A],
        ['WA2', f2, W, A],
      ] as const) {
        pool[key] = await createPair(c, f, x, y)
        await addLiquidity(c, pool[key]!, x, 10_000n * E18, y, 10_000n * E18)
      }
      for (const p of [pool.WH1!, pool.WH2!, pool.WH3!]) await blockSender(c, H, p)
      executor = await deployExecutor(c)
      await transfer(c, 0, W, executor, 5000n * E18)
      graph = new TokenGraph({ base: W, maxHops: 2 })
      tracker = new PoolTracker(
        { factories: [f1, f2, f3].map((address) => ({ address, fee: UNISWAP_V2_FEE })) },
        { client: c.pub, graph, logger: silentLogger },
      )
      await tracker.start()
      const modules = { public: c.pub, wallet: c.wallets[0]!, account: c.accounts[0]!, logger: silentLogger }
      flashClient = new ExecutorClient({ address: executor, flash: true }, modules)
      ownClient = new ExecutorClient({ address: executor, flash: false }, modules)
      flat = (await c.pub.request({ method: 'evm_snapshot' as never })) as string
    }, 180_000)
    afterAll(async () => {
      await c?.close()
    })

    async function resetMarket() {
      expect(await c.pub.request({ method: 'evm_revert' as never, params: [flat] as never })).toBe(true)
      flat = (await c.pub.request({ method: 'evm_snapshot' as never })) as string
      await tracker.poll()
    }

    for (const flash of [true, false]) {
      it(`trades a fee-on-transfer token (${flash ? 'flash swap' : 'own balance'}) at the simulated profit, below the fee-blind model's`, async () => {
        // the market buys F on WF1 with W (the pair sends F out: the fee is burned on the way)
        await swap(c, 2, pool.WF1!, W, 800n * E18)
        await tracker.poll()
        const [o] = findOpportunities(graph, { gas: { gasUnits: () => 0n, gasPrice: 0n } }).filter((x) =>
          x.cycle.tokens.includes(F),
        )
        expect(o).toBeDefined()
        const client = flash ? flashClient : ownClient
        const sim = await client.simulate(graph, o!, 1n)
        if (!sim.ok) throw new Error(`simulation failed: ${sim.revert ?? sim.reason}`)
        // two transfers of F lose 1% each on the way: less than the model, still a profit
        expect(sim.profit).toBeGreaterThan(0n)
        expect(sim.profit).toBeLessThan(o!.grossProfit)
        const before = await balanceOf(c, W, executor)
        const sent = await client.execute(graph, o!, sim.profit, { gas: gasLimitFor(sim.gas, 2) })
        expect(sent.status).toBe('success')
        expect(sent.profit).toBe(sim.profit)
        expect(await balanceOf(c, W, executor)).toBe(before + sim.profit)
        await resetMarket()
      }, 90_000)
    }

    it('quarantines the cycles through a honeypot, then the token, keeps the breaker closed and trades a plain cycle', async () => {
      const registry = new Registry()
      const engine = new ArbEngine(
        { limits: { minProfit: 10n ** 15n, maxTradesPerBlock: 1 }, tip: 1n },
        {
          graph,
          tracker,
          executor: flashClient,
          public: c.pub,
          logger: silentLogger,
          metrics: createArbMetrics(registry),
        },
      )
      // H is mispriced the most (its three cycles come first: buy on WH1 or WH2, sell on WH2 or
      // WH3), A less: the market sells H and A for W
      await swap(c, 2, pool.WH1!, H, 2000n * E18)
      await swap(c, 2, pool.WH2!, H, 1000n * E18)
      await swap(c, 2, pool.WA1!, A, 400n * E18)
      const decided: string[] = []
      let executed = 0
      // one block per round (a swap on the honeypot's other pool moves it), the engine deciding once per step
      for (let round = 0; round < 8 && executed === 0; round++) {
        const r = round === 0 ? await engine.step() : await engine.trade()
        for (const d of r.decisions) {
          const through = d.opportunity.cycle.tokens.includes(H) ? 'H' : 'A'
          decided.push(`${through}:${d.kind}`)
          if (d.kind === 'simulation-failed') expect(d.quarantined).toBe(true)
          if (d.kind === 'executed') {
            expect(d.execution.status).toBe('success')
            expect(d.execution.profit).toBeGreaterThan(0n)
            executed++
          }
        }
      }
      // the honeypot's three cycles each fail once in the path (a pair cannot send H), the third
      // puts H itself in quarantine, and the plain cycle is taken
      expect(decided).toEqual(['H:simulation-failed', 'H:simulation-failed', 'H:simulation-failed', 'A:executed'])
      expect(engine.breakerOpen).toBe(false)
      const held = engine.quarantine.list(engine.block)
      expect(held.filter((q) => q.kind === 'cycle')).toHaveLength(3)
      expect(held.filter((q) => q.kind === 'token')).toMatchObject([
        { key: H, strikes: 1, why: expect.stringMatching(/3 cycles through it reverted.*UniswapV2: TRANSFER_FAILED/) },
      ])
      expect(await registry.getSingleMetricAsString('cairn_arb_breaker_open')).toMatch(/ 0$/m)
      const quarantines = await registry.getSingleMetricAsString('cairn_arb_quarantines_total')
      expect(quarantines).toMatch(/kind="cycle"} 3/)
      expect(quarantines).toMatch(/kind="token"} 1/)
      await resetMarket()
    }, 120_000)
  })
}

onEachChain('fee-on-transfer tokens', feeOnTransferSuite)
