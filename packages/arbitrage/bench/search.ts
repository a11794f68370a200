// Search and sizing time per block: N pools (one per token against the base, the rest between
// random tokens), M of them changing per block; cycles of up to H hops through the base.
//   node --import tsx packages/arbitrage/bench/search.ts [pools=10000] [changed=1000] [hops=4] [blocks=20] [spread‰=5] [threads=0] [maxSized=256] [carry=1]
// threads > 0: the exact sizing is spread over that many worker threads (SizingPool) besides the main thread.
// maxSized: candidates sized exactly per block, the float look's best (the engine's default, 256); 0: all of them.
// carry = 1 (default): as the engine, the cycles found and the candidates not sized are looked at again with the
// next block (nobody trades here, so in a busy market they pile up); 0: only the cycles through the changed pools.

import { silentLogger } from '@cairn/utils'
import { type Address, TokenGraph } from '../src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../src/math/v2.ts'
import { findOpportunities } from '../src/strategy/search.ts'
import { SizingPool } from '../src/strategy/sizing-pool.ts'

const [
  pools = 10_000,
  changedPerBlock = 1_000,
  hops = 4,
  blocks = 20,
  spread = 5,
  threads = 0,
  maxSized = 256,
  carry = 1,
] = process.argv.slice(2).map(Number)
const tokens = Math.max(10, Math.floor(pools / 5))
let seed = 42
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}
const addr = (prefix: number, i: number) => `0x${prefix.toString(16)}${i.toString(16).padStart(39, '0')}` as Address
const price = Array.from({ length: tokens }, () => 0.5 + rand() * 1.5)
const depth = (p: number) => BigInt(Math.floor(1e6 * p)) * 10n ** 16n

const t0 = performance.now()
const g = new TokenGraph({ base: addr(1, 0), maxHops: hops })
const all: Address[] = []
for (let i = 0; i < pools; i++) {
  const a = i < tokens - 1 ? 0 : Math.floor(rand() * tokens)
  let b = i < tokens - 1 ? i + 1 : Math.floor(rand() * tokens)
  if (a === b) b = (b + 1) % tokens
  const address = addr(2, i)
  all.push(address)
  g.addPool({
    address,
    token0: addr(1, a),
    token1: addr(1, b),
    fee: UNISWAP_V2_FEE,
    reserve0: depth(1 / price[a]!),
    reserve1: depth(1 / price[b]!),
  })
}
const built = performance.now() - t0
const sizing = threads > 0 ? new SizingPool({ threads }, { graph: g, logger: silentLogger }) : null
const gas = { gasUnits: (h: number) => 40_000n + 75_000n * BigInt(h), gasPrice: 10n ** 9n }
const searchOpts = { gas, ...(maxSized > 0 ? { maxSized } : {}) }
// as the engine: the cycles found and the candidates not sized are looked at again with the next block
let carried: number[] = []
const times: number[] = []
// CPU time as well (the process's, workers included): on a shared machine wall time includes waiting for a core
const cpuTimes: number[] = []
let found = 0
for (let k = 0; k < blocks; k++) {
  const changed: Address[] = []
  for (let j = 0; j < changedPerBlock; j++) {
    const a = all[Math.floor(rand() * all.length)]!
    const p = g.pool(a)!
    // a swap-sized move (±spread permille) of the price
    const f = BigInt(Math.floor(1000 - spread + rand() * 2 * spread))
    g.setReserves(a, (p.reserve0 * f) / 1000n, (p.reserve1 * 1000n) / f)
    changed.push(a)
  }
  const s = performance.now()
  const c = process.cpuUsage()
  const deferred = new Set<number>()
  const opts = { ...searchOpts, deferred, also: carried }
  const ops = sizing ? await sizing.find(opts, changed) : findOpportunities(g, opts, changed)
  found += ops.length
  if (carry) carried = [...ops.map((o) => g.cycleIdOf(o.cycle.key)!), ...deferred]
  const used = process.cpuUsage(c)
  times.push(performance.now() - s)
  cpuTimes.push((used.user + used.system) / 1000)
}
const quantile = (xs: number[], f: number) =>
  [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!.toFixed(1)
const q = (f: number) => quantile(times, f)
console.log(
  JSON.stringify({
    pools,
    tokens,
    threads,
    maxSized,
    carry,
    hops,
    cycles: g.cycleCount,
    indexBuildMs: Math.round(built),
    changedPerBlock,
    blocks,
    searchMsP50: q(0.5),
    searchMsP99: q(0.99),
    searchCpuMsP50: quantile(cpuTimes, 0.5),
    searchCpuMsP99: quantile(cpuTimes, 0.99),
    opportunitiesPerBlock: Math.round(found / blocks),
  }),
)
await sizing?.close()
