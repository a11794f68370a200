// The exact sizing of a block's candidates spread over worker threads. The main thread keeps the
// first look (floats over typed arrays, a few ms); the bigint sizing of what passes — thousands of
// cycles in a busy market — is split into equal shares, one per worker plus one the main thread
// sizes itself while the workers run. Each worker keeps a copy of the pools' exact reserves, sent
// the pools that changed before each batch. The answer is the same as findOpportunities' (the
// same sizeBatch, the shares back in order); a worker that fails is replaced, and its share sized
// on the main thread, so a search never loses a candidate to a thread.
import type { Worker } from 'node:worker_threads'
import { CairnError, type Logger, startWorker } from '@cairn/utils'
import { ArbErrorCode } from '../errors.ts'
import type { TokenGraph } from '../graph/token-graph.ts'
import type { ArbMetrics } from '../metrics.ts'
import { findCandidates, type Opportunity, opportunitiesOf, type SearchOptions, sizingBatch } from './search.ts'
import { type SizedBatch, type SizingBatch, sizeBatch } from './sizing-batch.ts'
import type { WorkerReply, WorkerRequest } from './sizing-protocol.ts'

export interface SizingPoolOptions {
  /** Worker threads (≥ 1). */
  threads: number
  /** Below this many candidates everything is sized on the main thread (a message costs more). Default 256. */
  minParallel?: number
}

export interface SizingPoolModules {
  /** The graph whose pools the workers copy: one pool serves one graph. */
  graph: TokenGraph
  logger: Logger
  metrics?: Pick<ArbMetrics, 'searchWorkerFailures'> | null
}

interface Thread {
  worker: Worker
  pending: Map<number, { resolve: (s: SizedBatch) => void; reject: (err: unknown) => void }>
  failed: boolean
}

export class SizingPool {
  private threads: Thread[] = []
  private nextId = 0
  private closed = false

  constructor(
    private readonly opts: SizingPoolOptions,
    private readonly modules: SizingPoolModules,
  ) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) {
      throw new CairnError(ArbErrorCode.CONFIG, `search threads must be a whole number ≥ 1, got ${opts.threads}`, {
        fault: 'caller',
        hint: 'use 0 threads to search on the main thread only (no SizingPool)',
      })
    }
    for (let i = 0; i < opts.threads; i++) this.threads.push(this.start())
  }

  /** `findOpportunities` with the exact sizing spread over the workers: the same opportunities, best first. */
  async find(opts: SearchOptions, changed?: Iterable<`0x${string}`>): Promise<Opportunity[]> {
    const { graph } = this.modules
    const updates = graph.drainPoolUpdates()
    const c = findCandidates(graph, opts, changed)
    this.replaceFailed()
    if (this.closed)
      throw new CairnError(ArbErrorCode.SEARCH_WORKER_FAILED, 'the search pool is closed', { fault: 'internal' })
    if (updates.length > 0) for (const t of this.threads) this.post(t, { type: 'pools', updates })
    const shares = c.ids.length < (this.opts.minParallel ?? 256) ? 1 : this.threads.length + 1
    const sizes: number[] = []
    const jobs: Promise<SizedBatch>[] = []
    let from = 0
    for (let j = 0; j < shares; j++) {
      const to = Math.round(((j + 1) * c.ids.length) / shares)
      const batch = sizingBatch(graph, c.ids.slice(from, to), c.gasCost, opts)
      sizes.push(to - from)
      // the last share is the main thread's, sized while the workers run
      const t = j < shares - 1 ? this.threads[j]! : undefined
      jobs.push(
        t
          ? this.size(t, batch).catch(() => sizeBatch(graph.reserves, batch))
          : Promise.resolve(sizeBatch(graph.reserves, batch)),
      )
      from = to
    }
    return opportunitiesOf(graph, c.ids, c.gasCost, await Promise.all(jobs), sizes)
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    this.closed = true
    const threads = this.threads
    this.threads = []
    await Promise.all(threads.map((t) => t.worker.terminate()))
  }

  private start(): Thread {
    const worker = startWorker(
      new URL(`./sizing-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
    )
    // an idle worker never keeps the process alive (the service's own handles do); one with a
    // batch out does, until it answers (see size)
    worker.unref()
    const t: Thread = { worker, pending: new Map(), failed: false }
    const fail = (why: string) => {
      if (t.failed) return
      t.failed = true
      if (this.closed) return
      this.modules.metrics?.searchWorkerFailures.inc()
      this.modules.logger.warn(
        { err: why },
        'search worker failed: its share is sized on the main thread; starting another',
      )
      const err = new CairnError(ArbErrorCode.SEARCH_WORKER_FAILED, `a search worker failed: ${why}`, {
        fault: 'internal',
      })
      for (const p of t.pending.values()) p.reject(err)
      t.pending.clear()
      worker.unref()
    }
    worker.on('message', (m: WorkerReply) => {
      const p = t.pending.get(m.id)
      if (!p) return
      t.pending.delete(m.id)
      if (t.pending.size === 0) worker.unref()
      if ('error' in m) p.reject(new CairnError(ArbErrorCode.SEARCH_WORKER_FAILED, m.error, { fault: 'internal' }))
      else p.resolve(m.sized)
    })
    worker.on('error', (err) => fail(err.message))
    worker.on('exit', (code) => fail(`exited with code ${code}`))
    // a worker starts from every pool's state (later batches bring the pools that changed)
    this.post(t, { type: 'pools', updates: this.modules.graph.allPoolUpdates() })
    return t
  }

  private replaceFailed(): void {
    if (this.closed) return
    this.threads = this.threads.map((t) => (t.failed ? this.start() : t))
  }

  private post(t: Thread, m: WorkerRequest): void {
    t.worker.postMessage(m)
  }

  private size(t: Thread, batch: SizingBatch): Promise<SizedBatch> {
    if (t.failed)
      return Promise.reject(new CairnError(ArbErrorCode.SEARCH_WORKER_FAILED, 'worker failed', { fault: 'internal' }))
    const id = this.nextId++
    return new Promise<SizedBatch>((resolve, reject) => {
      if (t.pending.size === 0) t.worker.ref()
      t.pending.set(id, { resolve, reject })
      this.post(t, { type: 'size', id, batch })
    })
  }
}
