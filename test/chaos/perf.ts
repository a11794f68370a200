// The testbed's performance figures: one node's head polled every 100 ms over JSON-RPC, the time
// each height was first seen recorded (BFT blocks are final when committed: the head is the
// finalized block). From those: blocks/s over the window and the block intervals' median and p99
// (to within the poll period and an RPC round trip).
import { rpc } from './cluster.ts'
import { sleep } from './workload.ts'

export interface PerfFigures {
  windowS: number
  blocks: number
  blocksPerS: number
  intervalMedianMs: number
  intervalP99Ms: number
  intervalMaxMs: number
  /** Acknowledged transactions mined in a block seen in the window, and the time from acknowledgement to that block seen (ms). */
  txs?: { n: number; medianMs: number; p99Ms: number }
  /** What the transactions' latency runs to (default `finalized`; the producer topology: `in a block at f1`). */
  txsTo?: string
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
}

/** Transactions' latency: from acknowledgement (`ackAt`) to their block (`block`) first seen in the window. */
export function txLatency(
  seen: { height: number; at: number }[],
  txs: { ackAt: number; block: number }[],
): PerfFigures['txs'] {
  const at = new Map(seen.map((s) => [s.height, s.at]))
  const ms = txs.flatMap((t) => {
    const s = at.get(t.block)
    return s !== undefined && s >= t.ackAt ? [s - t.ackAt] : []
  })
  ms.sort((a, b) => a - b)
  return { n: ms.length, medianMs: Math.round(quantile(ms, 0.5)), p99Ms: Math.round(quantile(ms, 0.99)) }
}

/** Block figures from heights' first-seen times (ms), in height order. */
export function perfFigures(seen: { height: number; at: number }[], fromMs: number, toMs: number): PerfFigures {
  const ins = seen.filter((s) => s.at >= fromMs && s.at <= toMs)
  const intervals: number[] = []
  for (let k = 1; k < ins.length; k++) {
    const a = ins[k - 1] as { height: number; at: number }
    const b = ins[k] as { height: number; at: number }
    // several heights seen at once: the interval is shared between them
    const n = b.height - a.height
    for (let m = 0; m < n; m++) intervals.push((b.at - a.at) / n)
  }
  intervals.sort((x, y) => x - y)
  const first = ins[0]
  const last = ins[ins.length - 1]
  const blocks = first && last ? last.height - first.height : 0
  const windowS = (toMs - fromMs) / 1000
  return {
    windowS,
    blocks,
    blocksPerS: first && last && last.at > first.at ? blocks / ((last.at - first.at) / 1000) : 0,
    intervalMedianMs: Math.round(quantile(intervals, 0.5)),
    intervalP99Ms: Math.round(quantile(intervals, 0.99)),
    intervalMaxMs: Math.round(intervals[intervals.length - 1] ?? Number.NaN),
  }
}

export class HeadClock {
  readonly seen: { height: number; at: number }[] = []
  #stop = false
  #loop: Promise<void> | undefined

  constructor(
    private readonly url: string,
    private readonly periodMs = 100,
  ) {}

  start(): void {
    this.#loop = (async () => {
      while (!this.#stop) {
        try {
          const h = Number(await rpc<string>(this.url, 'eth_blockNumber', [], 2_000))
          const top = this.seen[this.seen.length - 1]
          if (!top || h > top.height) this.seen.push({ height: h, at: Date.now() })
        } catch {}
        await sleep(this.periodMs)
      }
    })()
  }

  async stop(): Promise<void> {
    this.#stop = true
    await this.#loop
  }
}

export function describePerf(p: PerfFigures): string {
  const txs = p.txs
    ? `; ${p.txs.n} txs acknowledged→${p.txsTo ?? 'finalized'} median ${p.txs.medianMs} ms, p99 ${p.txs.p99Ms} ms`
    : ''
  return `${p.blocks} blocks in ${p.windowS.toFixed(0)} s: ${p.blocksPerS.toFixed(2)} blocks/s, interval median ${p.intervalMedianMs} ms, p99 ${p.intervalP99Ms} ms, max ${p.intervalMaxMs} ms${txs}`
}
