// The market run with the operator's limits (issue 66): 29 pools, interval mining every 2 s, and a
// noise trader that does not wait for the engine — each round it sends its swaps as soon as the
// engine's first trade of the round is in the pool, so both land in the same blocks and the node's
// packing order decides who goes first (a race the engine can lose). Captured profit is held
// against the greedy optimum of the reserves each round leaves, computed independently
// (market-fixture.ts). Used by market-operator.e2e.test.ts (a short sample) and market-run.ts
// (the long run, a script).
import { type Logger, silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import type { Hex } from 'viem'
import type { Decision, RiskLimits } from '../../packages/arbitrage/src/engine.ts'
import { createArbMetrics } from '../../packages/arbitrage/src/metrics.ts'
import type { TestChain } from './chain-harness.ts'
import {
  chainReserves,
  deployMarket,
  gasCost,
  greedy,
  type Market,
  marketPlan,
  minedAll,
  type NoiseMove,
  NoiseTrader,
  newEngine,
  show,
} from './market-fixture.ts'

/** The limits users ran with when the engine halted itself (issue 66). */
export const OPERATOR_LIMITS: RiskLimits = { minProfit: 1n, maxConsecutiveFailures: 3, maxTradesPerBlock: 8 }

export interface RaceResult {
  optimum: bigint
  captured: bigint
  /** Trades that landed. */
  trades: number
  /** Reverts the replay showed were lost races (not faults). */
  lostRaces: number
  /** Reverts that were faults, failed sends, failed simulations (what feeds the breaker). */
  faults: string[]
  /** Times the breaker opened (from the metrics). */
  breakerOpened: number
  /** Rounds the engine skipped some trade with the breaker open. */
  breakerSkips: number
  permille: bigint
  /** Decisions by kind (and why, for skips), for the record. */
  kinds: Record<string, number>
}

/** Deploys the market (automine) and runs `rounds` rounds of the race with `limits`. */
export async function raceMarket(c: TestChain, opts: RaceOptions & { rounds: number }): Promise<RaceResult> {
  const plan = marketPlan(opts.rounds)
  const m = await deployMarket(c, plan)
  opts.log?.('market deployed')
  return runRace(m, plan.rounds, opts)
}

export interface RaceOptions {
  limits?: RiskLimits
  blockSeconds?: number
  log?: (line: string) => void
}

/**
 * The race on a deployed market (automine on; left on at the end). Each round: the greedy optimum
 * of the reserves now (as many trades as the engine may send a block), then one engine step, the
 * noise trader's next round sent as soon as the step's first trade is (else after the step), and
 * its swaps awaited. Every mispricing is measured before the engine may take it; what a round
 * leaves (past the per-block limit, a race lost) is measured again in the next.
 */
export async function runRace(m: Market, rounds: NoiseMove[][], opts: RaceOptions = {}): Promise<RaceResult> {
  const { c } = m
  const log = opts.log ?? (() => {})
  const limits = opts.limits ?? OPERATOR_LIMITS
  const noise = new NoiseTrader(m)
  // the noise trader's next round goes out once the engine's first trade of the round was sent
  let onSent: (() => void) | null = null
  const logger = {
    ...silentLogger,
    info: (_o: unknown, msg?: string) => {
      if (msg === 'trade sent' && onSent) {
        const go = onSent
        onSent = null
        go()
      }
    },
    child: () => logger,
  } as unknown as Logger
  const registry = new Registry()
  const metrics = createArbMetrics(registry)
  const { engine } = await newEngine(m, limits, { logger, metrics })
  const result: RaceResult = {
    optimum: 0n,
    captured: 0n,
    trades: 0,
    lostRaces: 0,
    faults: [],
    breakerOpened: 0,
    breakerSkips: 0,
    permille: 0n,
    kinds: {},
  }
  // the first round's mispricing, mined before the engine starts
  await minedAll(c, await noise.send(rounds[0]!))
  await c.pub.request({ method: 'evm_setAutomine' as never, params: [false] as never })
  await c.pub.request({ method: 'evm_setIntervalMining' as never, params: [opts.blockSeconds ?? 2] as never })
  const perBlock = limits.maxTradesPerBlock ?? 1
  try {
    // after the last round of noise, two rounds without: what it left
    for (let k = 1; k <= rounds.length + 1; k++) {
      result.optimum += greedy(m.cycles, m.pools, await chainReserves(m), await gasCost(c), perBlock)
      const next = rounds[k] ?? []
      let noiseSent: Promise<Hex[]> | null = null
      onSent = () => {
        noiseSent = noise.send(next)
      }
      const r = await engine.step()
      onSent = null
      const hashes = await (noiseSent ?? noise.send(next))
      tally(r.decisions, result)
      await minedAll(c, hashes)
      log(
        `round ${k}: ${r.decisions.length} decisions, ${result.trades} trades, ${result.lostRaces} lost races, breaker ${engine.breakerState}`,
      )
    }
  } finally {
    await c.pub.request({ method: 'evm_setIntervalMining' as never, params: [0] as never }).catch(() => {})
    await c.pub.request({ method: 'evm_setAutomine' as never, params: [true] as never }).catch(() => {})
  }
  const opened = (await metrics.breakerTransitions.get()).values.find((v) => v.labels.to === 'open')
  result.breakerOpened = opened?.value ?? 0
  result.permille = result.optimum > 0n ? (result.captured * 1000n) / result.optimum : 0n
  return result
}

/** Adds one step's decisions: landed trades' profit, lost races, faults. */
function tally(decisions: Decision[], into: RaceResult): void {
  for (const d of decisions) {
    const k =
      d.kind === 'executed'
        ? `executed-${d.execution.status}`
        : d.kind === 'skipped'
          ? `skipped-${d.why}`
          : d.kind === 'simulation-failed'
            ? `simulation-failed-${d.quarantined ? 'quarantined' : 'fault'}`
            : d.kind
    into.kinds[k] = (into.kinds[k] ?? 0) + 1
    if (d.kind === 'executed') {
      if (d.execution.status === 'success') {
        into.trades++
        into.captured += d.execution.profit
      } else if (d.lostRace) into.lostRaces++
      else into.faults.push(`reverted: ${show(d.execution)}`)
    } else if (d.kind === 'send-failed') into.faults.push(`send failed: ${d.error}`)
    else if (d.kind === 'simulation-failed' && !d.quarantined)
      into.faults.push(`simulation failed: ${d.simulation.reason}`)
    else if (d.kind === 'skipped' && d.why === 'breaker-open') into.breakerSkips++
  }
}
