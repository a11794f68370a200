// GhostDAG and the reachability index over a DAG as miners at a high block rate make it (not in CI):
// blocks mined as a Poisson process at BPS blocks a second, each miner seeing the blocks mined more
// than DELAY seconds before (each block's delay uniform in [0, DELAY]), naming up to 10 of the tips
// it sees. Prints blocks a second through BlockDag.addBlock (GhostDAG + reachability, in-memory
// stores), reachability queries a second, and the DAG's shape (mergeset size, red ratio).
//   node --import tsx packages/consensus/bench/ghostdag.ts [N=5000] [BPS=10] [DELAY=1] [K=124]
import { createHash } from 'node:crypto'
import { BlockDag, type BlockHash, MemoryDagStore, MemoryReachabilityStore } from '../src/ghostdag/index.ts'

const N = Number(process.argv[2] ?? 5000)
const BPS = Number(process.argv[3] ?? 10)
const DELAY = Number(process.argv[4] ?? 1)
const K = Number(process.argv[5] ?? 124)
const MAX_PARENTS = 10

/** mulberry32: a seeded PRNG, so every run mines the same DAG. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function mine(): { genesis: BlockHash; blocks: { hash: BlockHash; parents: BlockHash[] }[] } {
  const rand = prng(69)
  const hash = (i: number) => `0x${createHash('sha256').update(`bench:${i}`).digest('hex')}` as BlockHash
  const times = [0]
  const parentsOf: number[][] = [[]]
  const blocks: { hash: BlockHash; parents: BlockHash[] }[] = []
  // The children count of each block among the blocks a miner sees grows as it sees more; recompute
  // tips from the window of recent blocks (older ones all have children by then).
  let t = 0
  for (let i = 1; i <= N; i++) {
    t += -Math.log(1 - rand()) / BPS
    const seenBefore = t - rand() * DELAY
    const window = Math.max(0, i - Math.ceil(BPS * DELAY * 4) - 50)
    const seen: number[] = []
    for (let j = window; j < i; j++) if (times[j]! <= seenBefore) seen.push(j)
    const covered = new Set<number>()
    for (const j of seen) for (const p of parentsOf[j]!) covered.add(p)
    let tips = seen.filter((j) => !covered.has(j))
    if (tips.length === 0) tips = [seen.length > 0 ? seen[seen.length - 1]! : 0]
    const chosen = tips.slice(-MAX_PARENTS)
    times.push(t)
    parentsOf.push(chosen)
    blocks.push({ hash: hash(i), parents: chosen.map(hash) })
  }
  return { genesis: hash(0), blocks }
}

const { genesis, blocks } = mine()
const dag = new BlockDag(
  { k: K, genesis },
  { store: new MemoryDagStore(), reachability: new MemoryReachabilityStore() },
)
const started = performance.now()
let mergeset = 0
let reds = 0
let parents = 0
for (const b of blocks) {
  const d = dag.addBlock(b.hash, b.parents, 1n)
  mergeset += d.mergesetBlues.length + d.mergesetReds.length
  reds += d.mergesetReds.length
  parents += b.parents.length
}
const addSeconds = (performance.now() - started) / 1000

const rand = prng(7)
const Q = 200_000
const all = [genesis, ...blocks.map((b) => b.hash)]
const pairs = Array.from({ length: Q }, () => [
  all[Math.floor(rand() * all.length)]!,
  all[Math.floor(rand() * all.length)]!,
])
const qStarted = performance.now()
let yes = 0
for (const [a, b] of pairs) if (dag.reachability.isDagAncestorOf(a!, b!)) yes++
const qSeconds = (performance.now() - qStarted) / 1000

console.log(
  JSON.stringify(
    {
      blocks: N,
      bps: BPS,
      delaySeconds: DELAY,
      k: K,
      blocksPerSecond: Math.round(N / addSeconds),
      msPerBlock: Number(((addSeconds * 1000) / N).toFixed(3)),
      reachabilityQueriesPerSecond: Math.round(Q / qSeconds),
      pairsInPast: Number((yes / Q).toFixed(3)),
      meanParents: Number((parents / N).toFixed(2)),
      meanMergeset: Number((mergeset / N).toFixed(2)),
      redRatio: Number((reds / mergeset).toFixed(4)),
      sinkBlueScore: dag.get(dag.sink)!.blueScore,
    },
    null,
    2,
  ),
)
