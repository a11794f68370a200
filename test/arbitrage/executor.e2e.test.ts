// ArbExecutor and the engine end to end on a real chain with Uniswap V2 from its published bytecode:
// the contract refuses non-owners and foreign callbacks, reverts an unprofitable path without
// losing anything, executes 2-, 3- and 4-hop cycles (flash swap and own balance) with exactly the
// profit the closed form predicted; the engine finds a mispricing another account made, simulates,
// executes, and the profit lands; the kill switch stops it.
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import type { Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ArbEngine } from '../../packages/arbitrage/src/engine.ts'
import {
  arbExecutorAbi,
  ExecutorClient,
  executeArgs,
  gasLimitFor,
  revertName,
} from '../../packages/arbitrage/src/execution/executor.ts'
import { type Address, type Cycle, TokenGraph } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../../packages/arbitrage/src/math/v2.ts'
import { createArbMetrics } from '../../packages/arbitrage/src/metrics.ts'
import { PoolTracker } from '../../packages/arbitrage/src/pools/tracker.ts'
import { findOpportunities, type Opportunity } from '../../packages/arbitrage/src/strategy/search.ts'
import {
  addLiquidity,
  balanceOf,
  createPair,
  deployExecutor,
  deployFactory,
  deployToken,
  pairAbiFull,
  swap,
  type TestChain,
  transfer,
} from './chain-harness.ts'
import { onEachChain } from './on-each-chain.ts'

const E18 = 10n ** 18n

function executorSuite(name: string, start: () => Promise<TestChain>) {
  describe(`ArbExecutor and the engine on ${name}`, () => {
    let c: TestChain
    let W: Address // the base token
    let A: Address
    let B: Address
    let C: Address
    let executor: Address
    let graph: TokenGraph
    let tracker: PoolTracker
    const pool: Record<string, Address> = {}
    let flashClient: ExecutorClient
    let ownClient: ExecutorClient
    const me = () => c.accounts[0]!.address.toLowerCase() as Address

    beforeAll(async () => {
      c = await start()
      const [f1, f2] = [await deployFactory(c), await deployFactory(c)]
      ;[W, A, B, C] = [
        await deployToken(c, 10n ** 12n * E18),
        await deployToken(c, 10n ** 12n * E18),
        await deployToken(c, 10n ** 12n * E18),
        await deployToken(c, 10n ** 12n * E18),
      ] as [Address, Address, Address, Address]
      // account 2 is the market: it pushes swaps that misprice pools
      for (const t of [W, A, B, C])
        await transfer(c, 0, t, c.accounts[2]!.address.toLowerCase() as Address, 10n ** 9n * E18)
      const pools: [string, Address, Address, Address][] = [
        ['WA1', f1, W, A],
        ['WA2', f2, W, A],
        ['AB', f1, A, B],
        ['BW', f1, B, W],
        ['BC', f1, B, C],
        ['CW', f1, C, W],
      ]
      for (const [key, f, x, y] of pools) {
        pool[key] = await createPair(c, f, x, y)
        await addLiquidity(c, pool[key]!, x, 10_000n * E18, y, 10_000n * E18)
      }
      executor = await deployExecutor(c)
      await transfer(c, 0, W, executor, 5000n * E18) // capital for own-balance mode
      graph = new TokenGraph({ base: W, maxHops: 4 })
      tracker = new PoolTracker(
        { factories: [f1, f2].map((address) => ({ address, fee: UNISWAP_V2_FEE })) },
        { client: c.pub, graph, logger: silentLogger },
      )
      await tracker.start()
      const modules = { public: c.pub, wallet: c.wallets[0]!, account: c.accounts[0]!, logger: silentLogger }
      flashClient = new ExecutorClient({ address: executor, flash: true }, modules)
      ownClient = new ExecutorClient({ address: executor, flash: false }, modules)
    }, 120_000)
    afterAll(async () => {
      await c?.close()
    })

    /** The best opportunity of exactly `hops` pools (gas not counted), after the tracker catches up. */
    async function best(hops: number): Promise<Opportunity> {
      await tracker.poll()
      const ops = findOpportunities(graph, { gas: { gasUnits: () => 0n, gasPrice: 0n } }).filter(
        (o) => o.cycle.pools.length === hops,
      )
      expect(ops.length).toBeGreaterThan(0)
      return ops[0]!
    }

    /** Undoes the market's mispricings: back to flat pools (a snapshot taken after setup). */
    let flat: string
    beforeAll(async () => {
      flat = (await c.pub.request({ method: 'evm_snapshot' as never })) as string
    })
    async function resetMarket() {
      expect(await c.pub.request({ method: 'evm_revert' as never, params: [flat] as never })).toBe(true)
      flat = (await c.pub.request({ method: 'evm_snapshot' as never })) as string
      await tracker.poll()
    }

    it('refuses a non-owner and a callback it did not ask for', async () => {
      await swap(c, 2, pool['WA1']!, W, 500n * E18) // WA1 now sells A cheap… for W; cycles exist
      const o = await best(2)
      const args = executeArgs(graph, o, 1n, true)
      await expect(
        c.pub.simulateContract({
          address: executor,
          abi: arbExecutorAbi,
          functionName: 'execute',
          args,
          account: c.accounts[1]!,
        }),
      ).rejects.toSatisfy((e) => revertName(e) === 'NotOwner')
      // a direct call of the callback
      await expect(
        c.pub.simulateContract({
          address: executor,
          abi: arbExecutorAbi,
          functionName: 'uniswapV2Call',
          args: [executor, 0n, 1n, '0x00'],
          account: c.accounts[0]!,
        }),
      ).rejects.toSatisfy((e) => revertName(e) === 'UnexpectedCallback')
      // a flash swap someone else starts on a real pair, naming the executor as receiver
      await transfer(c, 2, W, pool['WA2']!, 0n)
      await expect(
        c.pub.simulateContract({
          address: pool['WA2']!,
          abi: pairAbiFull,
          functionName: 'swap',
          args: [1000n, 1000n, executor, '0x01'],
          account: c.accounts[2]!,
        }),
      ).rejects.toThrow(/UnexpectedCallback|0x|revert/i)
      await resetMarket()
    }, 60_000)

    it('an unprofitable path reverts on chain and costs nothing but gas', async () => {
      const before = await balanceOf(c, W, executor)
      // flat pools: any cycle loses its fees
      const cycle = [...graph.allCycles()].find((x) => x.pools.length === 2)!
      const o: Opportunity = {
        cycle,
        amountIn: 10n * E18,
        amountOut: 0n,
        grossProfit: 0n,
        gasCost: 0n,
        netProfit: 0n,
        hopOuts: [],
      }
      const sim = await ownClient.simulate(graph, o, 1n)
      expect(sim).toMatchObject({ ok: false, revert: 'InsufficientProfit' })
      const sent = await ownClient.execute(graph, o, 1n, { gas: 500_000n })
      expect(sent.status).toBe('reverted')
      expect(sent.profit).toBe(0n)
      expect(await balanceOf(c, W, executor)).toBe(before)
      const flashSent = await flashClient.execute(graph, o, 1n, { gas: 500_000n })
      expect(flashSent.status).toBe('reverted')
      expect(await balanceOf(c, W, executor)).toBe(before)
    }, 60_000)

    for (const [hops, misprice] of [
      [2, ['WA1', 'W', 800n]],
      [3, ['AB', 'A', 900n]],
      [4, ['BC', 'B', 1200n]],
    ] as const) {
      for (const flash of [true, false]) {
        it(`executes a ${hops}-hop cycle (${flash ? 'flash swap' : 'own balance'}) with the predicted profit`, async () => {
          const tokenOf: Record<string, Address> = { W, A, B, C }
          await swap(c, 2, pool[misprice[0]]!, tokenOf[misprice[1]]!, misprice[2] * E18)
          const o = await best(hops)
          expect(o.grossProfit).toBeGreaterThan(0n)
          const client = flash ? flashClient : ownClient
          const sim = await client.simulate(graph, o, 1n)
          // the reason in the message: a failure says why the simulation refused
          expect(
            sim,
            JSON.stringify(sim, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
          ).toMatchObject({
            ok: true,
            profit: o.grossProfit,
          })
          const before = await balanceOf(c, W, executor)
          const sent = await client.execute(graph, o, o.grossProfit, {
            gas: gasLimitFor((sim as { gas: bigint }).gas, hops),
          })
          expect(sent.status).toBe('success')
          // exactly what the closed form and the exact simulation predicted
          expect(sent.profit).toBe(o.grossProfit)
          expect(await balanceOf(c, W, executor)).toBe(before + o.grossProfit)
          // and the pools it traded are no longer worth trading
          await tracker.poll()
          const again = findOpportunities(graph, {
            gas: { gasUnits: () => 0n, gasPrice: 0n },
            minProfit: o.grossProfit / 1000n,
          })
          expect(again.filter((x) => x.cycle.key === o.cycle.key)).toHaveLength(0)
          await resetMarket()
        }, 60_000)
      }
    }

    it('the engine finds a mispricing another account made, simulates, executes; the kill switch stops it', async () => {
      let killed = true
      const registry = new Registry()
      const engine = new ArbEngine(
        { limits: { minProfit: 10n ** 15n, maxTradesPerBlock: 2 }, tip: 1n },
        {
          graph,
          tracker,
          executor: flashClient,
          public: c.pub,
          logger: silentLogger,
          killed: () => killed,
          metrics: createArbMetrics(registry),
        },
      )
      await swap(c, 2, pool['CW']!, C, 1500n * E18)
      const stopped = await engine.step()
      expect(stopped.found.length).toBeGreaterThan(0)
      expect(stopped.decisions.every((d) => d.kind === 'skipped' && d.why === 'killed')).toBe(true)
      killed = false
      const before = await balanceOf(c, W, executor)
      const ethBefore = await c.pub.getBalance({ address: me() })
      const r = await engine.trade()
      const done = r.decisions.filter((d) => d.kind === 'executed')
      expect(done.length).toBeGreaterThan(0)
      let profit = 0n
      let gasWei = 0n
      for (const d of done) {
        if (d.kind !== 'executed') continue
        expect(d.execution.status).toBe('success')
        profit += d.execution.profit
        gasWei += d.execution.gasUsed * d.execution.effectiveGasPrice
        expect(d.execution.profit).toBeGreaterThanOrEqual(d.opportunity.netProfit)
      }
      expect(await balanceOf(c, W, executor)).toBe(before + profit)
      // net of gas (the base token counts 1:1 with the native coin here)
      expect(profit - gasWei).toBeGreaterThan(10n ** 15n)
      expect(ethBefore - (await c.pub.getBalance({ address: me() }))).toBeLessThanOrEqual(gasWei)
      const text = await registry.metrics()
      expect(text).toMatch(new RegExp(`cairn_arb_trades_total\\{status="success"\\} ${done.length}`))
      expect(text).toMatch(/cairn_arb_opportunities_total\{stage="skipped"\} [1-9]/)
      expect(text).toMatch(/cairn_arb_search_seconds_count [1-9]/)
      expect(text).toMatch(/cairn_arb_block_to_tx_seconds_count [1-9]/)
      await resetMarket()
    }, 90_000)

    it('the owner withdraws; nobody else can', async () => {
      const bal = await balanceOf(c, W, executor)
      const w = c.wallets[0]!
      const hash: Hex = await w.writeContract({
        address: executor,
        abi: arbExecutorAbi,
        functionName: 'withdraw',
        args: [W, me(), bal],
        account: w.account!,
        chain: c.chain,
        gas: 200_000n,
      })
      await c.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 })
      expect(await balanceOf(c, W, executor)).toBe(0n)
      await expect(
        c.pub.simulateContract({
          address: executor,
          abi: arbExecutorAbi,
          functionName: 'withdraw',
          args: [W, c.accounts[1]!.address, 0n],
          account: c.accounts[1]!,
        }),
      ).rejects.toSatisfy((e) => revertName(e) === 'NotOwner')
    }, 30_000)
  })
}

onEachChain('ArbExecutor', executorSuite)

export type { Cycle }
