// The market the arbitrage engine is measured in (market.e2e.test.ts, market-operator.e2e.test.ts and
// the long run, market-run.ts): two factories from Uniswap V2's published bytecode, 9 tokens (the
// base W and 8 others), 29 pools (each token against W on both factories, deep and shallow, and 13
// pools between tokens: 2- and 3-hop cycles), a noise trader, and the GREEDY optimum computed on its
// own (its own enumeration of cycles, its own V2 formula, a numeric search over each input): the
// best trade, applied, then the next best on what it left, until none pays its gas.
import type { Logger } from '@cairn/utils'
import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import type { Abi, Hex } from 'viem'
import { ArbEngine, type Decision, type RiskLimits } from '../../packages/arbitrage/src/engine.ts'
import { ExecutorClient } from '../../packages/arbitrage/src/execution/executor.ts'
import { NonceManager } from '../../packages/arbitrage/src/execution/nonce-manager.ts'
import { type Address, TokenGraph } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../../packages/arbitrage/src/math/v2.ts'
import type { ArbMetrics } from '../../packages/arbitrage/src/metrics.ts'
import { PoolTracker } from '../../packages/arbitrage/src/pools/tracker.ts'
import {
  deployExecutor,
  deployFactory,
  deployNoiseSwapper,
  deployToken,
  erc20Abi,
  factoryAbi,
  noiseSwapperAbi,
  pairAbiFull,
  reserves,
  type TestChain,
  token0,
} from './chain-harness.ts'

const E18 = 10n ** 18n
export const TOKENS = 9
export const HOPS = 3
/** Gas the greedy optimum charges a trade (the engine's trades use ~150–300k). */
export const GAS_PER_TRADE = 300_000n

export interface MarketPool {
  pair: Address
  t0: Address
  t1: Address
}
export type Cyc = { pools: number[]; tokens: Address[] }
export type NoiseMove = { pool: number; dir: boolean; pct: number }

/** Independent of src/: the V2 output, the cycles by brute force, the best input by search. */
const out = (x: bigint, rIn: bigint, rOut: bigint) => (x * 997n * rOut) / (rIn * 1000n + x * 997n)

export function cyclesOf(pools: MarketPool[], base: Address, maxHops: number): Cyc[] {
  const found: Cyc[] = []
  const walk = (t: Address, tokens: Address[], used: number[]) => {
    if (used.length > 0 && t === base) {
      if (used.length >= 2) found.push({ pools: [...used], tokens: [...tokens] })
      return
    }
    if (used.length === maxHops) return
    pools.forEach((p, i) => {
      if (used.includes(i)) return
      const next = p.t0 === t ? p.t1 : p.t1 === t ? p.t0 : undefined
      if (!next || (next !== base && tokens.includes(next))) return
      walk(next, [...tokens, next], [...used, i])
    })
  }
  walk(base, [base], [])
  return found
}

/** Each hop's output for input x through cycle c at reserves res. */
function run(c: Cyc, pools: MarketPool[], res: [bigint, bigint][], x: bigint): bigint[] {
  const outs: bigint[] = []
  let a = x
  c.pools.forEach((pi, k) => {
    const p = pools[pi]!
    const [r0, r1] = res[pi]!
    a = c.tokens[k] === p.t0 ? out(a, r0, r1) : out(a, r1, r0)
    outs.push(a)
  })
  return outs
}

/** The best input and profit of one cycle (ternary search over the exact integer profit). */
function bestOf(c: Cyc, pools: MarketPool[], res: [bigint, bigint][]): { x: bigint; profit: bigint } {
  const profit = (x: bigint) => run(c, pools, res, x).at(-1)! - x
  const first = pools[c.pools[0]!]!
  const rIn = c.tokens[0] === first.t0 ? res[c.pools[0]!]![0] : res[c.pools[0]!]![1]
  if (profit(rIn / 1_000_000n + 1n) <= 0n) return { x: 0n, profit: 0n }
  let lo = 0n
  let hi = rIn
  while (hi - lo > 2n) {
    const m1 = lo + (hi - lo) / 3n
    const m2 = hi - (hi - lo) / 3n
    if (profit(m1) < profit(m2)) lo = m1
    else hi = m2
  }
  let best = { x: 0n, profit: 0n }
  for (let x = lo; x <= hi; x++) if (profit(x) > best.profit) best = { x, profit: profit(x) }
  return best
}

/**
 * The greedy optimum: the best trade net of gas, applied to a copy of the reserves, then the next
 * best on what it left, until none pays its gas (or `maxTrades`). Gross profit of those trades.
 */
export function greedy(
  cycles: Cyc[],
  pools: MarketPool[],
  start: [bigint, bigint][],
  gas: bigint,
  maxTrades = 64,
): bigint {
  const res = start.map((r) => [...r] as [bigint, bigint])
  let total = 0n
  for (let n = 0; n < maxTrades; n++) {
    let pick: { c: Cyc; x: bigint; profit: bigint } | null = null
    for (const c of cycles) {
      const b = bestOf(c, pools, res)
      if (b.profit > gas && (!pick || b.profit > pick.profit)) pick = { c, ...b }
    }
    if (!pick) break
    total += pick.profit
    const outs = run(pick.c, pools, res, pick.x)
    let a = pick.x
    pick.c.pools.forEach((pi, k) => {
      const p = pools[pi]!
      const r = res[pi]!
      if (pick.c.tokens[k] === p.t0) res[pi] = [r[0] + a, r[1] - outs[k]!]
      else res[pi] = [r[0] - outs[k]!, r[1] + a]
      a = outs[k]!
    })
  }
  return total
}

/** The market's prices, depths and the noise trader's rounds (1–3 pools moved 2–15% each), seeded. */
export function marketPlan(rounds: number, seed = 5454) {
  return fc.sample(
    fc.record({
      prices: fc.array(fc.integer({ min: 50, max: 200 }), { minLength: TOKENS, maxLength: TOKENS }),
      cross: fc.array(
        fc.record({ i: fc.integer({ min: 1, max: TOKENS - 1 }), j: fc.integer({ min: 1, max: TOKENS - 1 }) }),
        { minLength: 200, maxLength: 200 },
      ),
      depth: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 40, maxLength: 40 }),
      rounds: fc.array(
        fc.array(fc.record({ pool: fc.nat(), dir: fc.boolean(), pct: fc.integer({ min: 2, max: 15 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        { minLength: rounds, maxLength: rounds },
      ),
    }),
    { numRuns: 1, seed },
  )[0]!
}
export type MarketPlan = ReturnType<typeof marketPlan>

export interface Market {
  c: TestChain
  pools: MarketPool[]
  tokens: Address[]
  factories: Address[]
  executor: Address
  swapper: Address
  cycles: Cyc[]
}

/**
 * Deploys the market on `c` (automine): factories, tokens, the noise trader's swapper, 29 pools, the
 * executor. The pools' transactions go out in waves (every pair created, then every transfer into
 * them, then every mint), each wave sent at once with consecutive nonces and awaited together: one
 * by one, a `cairn start` process took 29 s.
 */
export async function deployMarket(c: TestChain, plan: MarketPlan): Promise<Market> {
  const factories = [await deployFactory(c), await deployFactory(c)]
  const tokens: Address[] = []
  for (let i = 0; i < TOKENS; i++) tokens.push(await deployToken(c, 10n ** 15n * E18))
  const swapper = await deployNoiseSwapper(c, 2)
  // every token against W on both factories (deep and shallow), then 13 pools between tokens
  const want: { i: number; j: number; depth: number; f: number }[] = []
  let d = 0
  for (let i = 1; i < TOKENS; i++)
    for (const f of [0, 1]) want.push({ i: 0, j: i, depth: plan.depth[d++ % plan.depth.length]!, f })
  const seen = new Set<string>()
  for (const p of plan.cross) {
    if (want.length >= 29) break
    const [i, j] = p.i < p.j ? [p.i, p.j] : [p.j, p.i]
    if (i === j || seen.has(`${i}:${j}`)) continue
    seen.add(`${i}:${j}`)
    want.push({ i, j, depth: plan.depth[d++ % plan.depth.length]!, f: (i + j) % 2 })
  }
  const wave = waves(c)
  await wave(
    want.map((w) => ({
      address: factories[w.f]!,
      abi: factoryAbi,
      functionName: 'createPair',
      args: [tokens[w.i]!, tokens[w.j]!],
      gas: 5_000_000n,
    })),
  )
  const pairs = await Promise.all(
    want.map(
      async (w) =>
        (
          (await c.pub.readContract({
            address: factories[w.f]!,
            abi: factoryAbi,
            functionName: 'getPair',
            args: [tokens[w.i]!, tokens[w.j]!],
          })) as Address
        ).toLowerCase() as Address,
    ),
  )
  const send = (token: Address, to: Address, amount: bigint) => ({
    address: token,
    abi: erc20Abi,
    functionName: 'transfer',
    args: [to, amount],
    gas: 120_000n,
  })
  // consistent prices: value of each side = depth × 10,000 base units
  await wave([
    ...tokens.map((t) => send(t, swapper, 10n ** 13n * E18)),
    ...want.flatMap((w, k) => [
      send(tokens[w.i]!, pairs[k]!, (BigInt(w.depth) * 10_000n * E18 * 100n) / BigInt(plan.prices[w.i]!)),
      send(tokens[w.j]!, pairs[k]!, (BigInt(w.depth) * 10_000n * E18 * 100n) / BigInt(plan.prices[w.j]!)),
    ]),
  ])
  await wave(
    pairs.map((pair) => ({
      address: pair,
      abi: pairAbiFull,
      functionName: 'mint',
      args: [c.accounts[0]!.address],
      gas: 400_000n,
    })),
  )
  const pools: MarketPool[] = []
  for (const [k, w] of want.entries()) {
    const t0 = await token0(c, pairs[k]!)
    pools.push({ pair: pairs[k]!, t0, t1: t0 === tokens[w.i] ? tokens[w.j]! : tokens[w.i]! })
  }
  const executor = await deployExecutor(c)
  return { c, pools, tokens, factories, executor, swapper, cycles: cyclesOf(pools, tokens[0]!, HOPS) }
}

type WaveCall = { address: Address; abi: Abi; functionName: string; args: readonly unknown[]; gas: bigint }

/**
 * Account 0 sends `calls` at once (consecutive nonces, fixed gas) with automine off, mines blocks
 * until all are in, and checks each succeeded (a block per transaction cost 270 ms each on a
 * `cairn start` process).
 */
function waves(c: TestChain): (calls: WaveCall[]) => Promise<void> {
  const w = c.wallets[0]!
  const address = c.accounts[0]!.address
  const rpc = (method: string, params: unknown[] = []) =>
    c.pub.request({ method: method as never, params: params as never })
  return async (calls) => {
    let nonce = await c.pub.getTransactionCount({ address, blockTag: 'pending' })
    const end = nonce + calls.length
    await rpc('evm_setAutomine', [false])
    try {
      const hashes: Hex[] = []
      for (const call of calls)
        hashes.push(await w.writeContract({ ...call, account: w.account!, chain: c.chain, nonce: nonce++ } as never))
      // several blocks when the wave passes a block's gas
      while ((await c.pub.getTransactionCount({ address, blockTag: 'latest' })) < end) await rpc('evm_mine')
      for (const r of await minedAll(c, hashes))
        if (r.status !== 'success') throw new Error(`market deployment: ${r.transactionHash} reverted`)
    } finally {
      await rpc('evm_setAutomine', [true])
    }
  }
}

/** The engine's modules besides the chain: a logger and metrics. */
export interface EngineExtras {
  logger?: Logger
  metrics?: ArbMetrics | null
  now?: () => number
  breakerCooldownMs?: number
}

/** A new engine on account 0 (its own tracker, started now: it knows nothing of what happened before). */
export async function newEngine(
  m: Market,
  limits: RiskLimits,
  extras: EngineExtras = {},
): Promise<{ engine: ArbEngine; tracker: PoolTracker; graph: TokenGraph }> {
  const { c } = m
  const logger = extras.logger ?? silentLogger
  const graph = new TokenGraph({ base: m.tokens[0]!, maxHops: HOPS })
  const tracker = new PoolTracker(
    { factories: m.factories.map((address) => ({ address, fee: UNISWAP_V2_FEE })) },
    { client: c.pub, graph, logger: silentLogger },
  )
  await tracker.start()
  if (graph.cycleCount !== m.cycles.length)
    throw new Error(`the engine sees ${graph.cycleCount} cycles, the market has ${m.cycles.length}`)
  const account = c.accounts[0]!
  const modules = { public: c.pub, wallet: c.wallets[0]!, account, logger }
  const engine = new ArbEngine(
    {
      limits,
      tip: 2_000_000_000n,
      ...(extras.breakerCooldownMs !== undefined ? { breakerCooldownMs: extras.breakerCooldownMs } : {}),
    },
    {
      graph,
      tracker,
      executor: new ExecutorClient({ address: m.executor, funding: 'flash' }, modules),
      public: c.pub,
      logger,
      metrics: extras.metrics ?? null,
      ...(extras.now ? { now: extras.now } : {}),
      nonces: new NonceManager(
        { address: account.address.toLowerCase() as Address },
        { client: c.pub as never, logger },
      ),
    },
  )
  return { engine, tracker, graph }
}

/** The noise trader (account 2, through its swapper): each move sells pct% of a pool's reserve of one side. */
export class NoiseTrader {
  private nonce: number | null = null
  constructor(private readonly m: Market) {}

  /** Forget the nonce (the chain was reverted to a snapshot). */
  reset(): void {
    this.nonce = null
  }

  /** Sends the moves (one transaction each, the node's suggested fees); their hashes. */
  async send(moves: NoiseMove[]): Promise<Hex[]> {
    const { c, pools, swapper } = this.m
    const w = c.wallets[2]!
    if (this.nonce === null)
      this.nonce = await c.pub.getTransactionCount({ address: c.accounts[2]!.address, blockTag: 'pending' })
    const hashes: Hex[] = []
    for (const mv of moves) {
      const p = pools[mv.pool % pools.length]!
      const [r0, r1] = await reserves(c, p.pair)
      hashes.push(
        await w.writeContract({
          address: swapper,
          abi: noiseSwapperAbi,
          functionName: 'swap',
          args: [p.pair, mv.dir ? p.t0 : p.t1, ((mv.dir ? r0 : r1) * BigInt(mv.pct)) / 100n],
          account: w.account!,
          chain: c.chain,
          gas: 300_000n,
          nonce: this.nonce++,
        }),
      )
    }
    return hashes
  }
}

export const minedAll = (c: TestChain, hashes: Hex[]) =>
  Promise.all(hashes.map((hash) => c.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 })))
export const chainReserves = (m: Market) => Promise.all(m.pools.map((p) => reserves(m.c, p.pair)))
export async function gasCost(c: TestChain): Promise<bigint> {
  const f = await c.pub.estimateFeesPerGas()
  return GAS_PER_TRADE * f.maxFeePerGas
}

/** A logger that counts the engine's sends (to mine a block once all of a batch are in the pool). */
export function countingLogger(): { logger: Logger; sent: () => number } {
  let sent = 0
  const logger = {
    ...silentLogger,
    info: (_o: unknown, msg?: string) => {
      if (msg === 'trade sent') sent++
    },
    child: () => logger,
  } as unknown as Logger
  return { logger, sent: () => sent }
}

/** Decisions as JSON (bigints as strings), for a failure message. */
export const show = (d: unknown) => JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? String(v) : v))

export type { Decision }
