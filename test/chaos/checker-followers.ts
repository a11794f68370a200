// The checker of the `producer` topology (one dev producer, F p2p followers). A dev chain has no
// finality gadget: the producer's chain is the chain. So agreement is defined against it:
//
// - after the heal and the settle, every follower's block at each height up to its head is the
//   producer's block at that height (and the producer's chain links);
// - every head any node answered while the run went on (polled every second) is, at its height,
//   the producer's final block: a block once served by the producer or a follower is never
//   replaced (a producer that restarts from its datadir keeps what it had sealed and announced);
// - the transaction rules over the producer's chain (checker.ts: checkLedger).
//
// Liveness (every follower holds the producer's block at the producer's head at the heal) is
// checked by run.ts before the settle.

import { blocksOf, checkLedger, type RpcBlock, retry } from './checker.ts'
import type { Cluster } from './cluster.ts'
import { rpc } from './cluster.ts'
import type { TxRecord } from './workload.ts'

export interface HeadSample {
  node: string
  at: number
  number: number
  hash: string
}

/** Polls every running node's `latest` block (number and hash) every second. */
export class HeadPoller {
  readonly heads: HeadSample[] = []
  #stop = false
  #loop: Promise<void> | undefined

  constructor(private readonly cluster: Cluster) {}

  start(): void {
    this.#loop = (async () => {
      while (!this.#stop) {
        await Promise.all(
          this.cluster.nodes.map(async (n) => {
            if (!this.cluster.running(n)) return
            try {
              const b = await rpc<RpcBlock | null>(n.url, 'eth_getBlockByNumber', ['latest', false], 2_000)
              if (b) this.heads.push({ node: n.name, at: Date.now(), number: Number(b.number), hash: b.hash })
            } catch {}
          }),
        )
        await new Promise((r) => setTimeout(r, 1_000))
      }
    })()
  }

  async stop(): Promise<void> {
    this.#stop = true
    await this.#loop
  }
}

export interface FollowerCheckResult {
  violations: string[]
  heights: Record<string, number>
  acknowledged: number
  lost: number
  unacknowledged: number
  /** Head samples compared with the producer's final chain. */
  headsChecked: number
}

export async function checkFollowers(input: {
  cluster: Cluster
  txs: TxRecord[]
  heads: HeadSample[]
}): Promise<FollowerCheckResult> {
  const { cluster } = input
  const producer = cluster.nodes.find((n) => n.producer)
  if (!producer) throw new Error('the producer topology has no producer')
  const violations: string[] = []
  const heights: Record<string, number> = {}
  // The followers' heads first: the producer keeps sealing, so its head read after theirs is the
  // highest, and a follower above it holds a block the producer never sealed (or lost).
  for (const n of cluster.nodes)
    if (n !== producer) heights[n.name] = Number(await retry(() => rpc<string>(n.url, 'eth_blockNumber')))
  const top = Number(await retry(() => rpc<string>(producer.url, 'eth_blockNumber')))
  heights[producer.name] = top
  const full = await blocksOf(producer.url, top, true)
  const canon = new Map(full.map((b) => [Number(b.number), b]))
  for (const [h, b] of canon) {
    const parent = canon.get(h - 1)
    if (parent && parent.hash !== b.parentHash)
      violations.push(`chain: ${producer.name} block ${h} does not link to its block ${h - 1}`)
  }
  // Agreement with the producer, height by height, up to each follower's head.
  for (const n of cluster.nodes) {
    if (n === producer) continue
    const head = heights[n.name] ?? 0
    if (head > top) violations.push(`agreement: ${n.name}'s head ${head} is above the producer's ${top}`)
    const blocks = await blocksOf(n.url, Math.min(head, top), false)
    let reported = 0
    for (const b of blocks) {
      const h = Number(b.number)
      const want = canon.get(h)
      if (want && want.hash !== b.hash && reported++ < 3)
        violations.push(`agreement: ${n.name} holds ${b.hash} at height ${h}; the producer holds ${want.hash}`)
    }
  }
  // Every head served during the run is the producer's final block at its height.
  let headsChecked = 0
  const replaced = new Map<string, HeadSample[]>()
  for (const s of input.heads) {
    const want = canon.get(s.number)
    if (!want) continue
    headsChecked++
    if (want.hash !== s.hash) replaced.set(s.node, [...(replaced.get(s.node) ?? []), s])
  }
  for (const [node, ss] of replaced) {
    const first = ss[0] as HeadSample
    const heightsSeen = [...new Set(ss.map((s) => s.number))]
    violations.push(
      `replaced: ${node} served ${heightsSeen.length} head(s) the producer's chain does not hold (heights ${heightsSeen.slice(0, 8).join(', ')}); first ${first.hash} at ${first.number}, the producer's final block there is ${canon.get(first.number)?.hash}`,
    )
  }
  const { acked, lost } = await checkLedger(producer.url, top, full, input.txs, undefined, violations)
  return {
    violations,
    heights,
    acknowledged: acked.length,
    lost,
    unacknowledged: input.txs.length - acked.length,
    headsChecked,
  }
}
