import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Chain } from '@cairn/chain'
import { type ReadThreads, RpcErrorCode, type RpcLimits, toJsonRpcError } from '@cairn/rpc'
import { bytesToHex, CairnError, type Logger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Counter, Gauge, type Registry } from 'prom-client'
import { type FromThread, Outbox, type ToThread } from './messages.ts'
import type { ReadWorkerData } from './read-worker.ts'

export interface ReadThreadPoolOptions {
  /** Read threads to run (≥ 1). */
  threads: number
  /** The chain's LevelDB directory, opened by the main thread with `multithreading`. */
  chaindata: string
  limits: RpcLimits
  clientVersion: string
  buildCommit?: string
  /** First restart delay after a thread stops unasked, in ms; doubles per stop in a row, at most 5 s. */
  restartDelayMs?: number
}

interface Pending {
  body: unknown
  resolve(text: string | undefined): void
}

interface Slot {
  thread: number
  worker: Worker | null
  /** What goes to the worker in this event-loop turn (one postMessage). */
  outbox: Outbox<ToThread> | null
  ready: boolean
  /** The head last named to this thread (a new one is sent in front of the next request). */
  sentHead: Block | null
  /** The store's cache epoch when the thread last heard (a newer one: it drops its caches). */
  sentEpoch: number
  pending: Map<number, Pending>
  /** Stops in a row without serving (the restart delay's exponent). */
  failures: number
  /** This thread's counters, bound once (a labelled inc() hashes its labels on every call). */
  counted: { requests: { inc(): void }; inFlight: { inc(): void; dec(): void } } | null
}

interface ReadThreadMetrics {
  requests: Counter<'thread'>
  failed: Counter<'thread'>
  restarts: Counter<'thread'>
  inFlight: Gauge<'thread'>
  up: Gauge<'thread'>
}

/** The read threads' metrics on `registry` (null: none). */
export function createReadThreadMetrics(registry: Registry | null): ReadThreadMetrics | null {
  if (!registry) return null
  const registers = [registry]
  return {
    requests: new Counter({
      name: 'cairn_rpc_thread_requests_total',
      help: 'HTTP JSON-RPC bodies (a request or a batch) answered by each read thread (--rpc.threads)',
      labelNames: ['thread'],
      registers,
    }),
    failed: new Counter({
      name: 'cairn_rpc_thread_failed_total',
      help: 'Bodies answered with RPC_READ_THREAD_STOPPED (-32603) because their read thread stopped with them in flight',
      labelNames: ['thread'],
      registers,
    }),
    restarts: new Counter({
      name: 'cairn_rpc_thread_restarts_total',
      help: 'Read threads restarted after stopping unasked',
      labelNames: ['thread'],
      registers,
    }),
    inFlight: new Gauge({
      name: 'cairn_rpc_thread_in_flight',
      help: 'Bodies sent to each read thread and not yet answered',
      labelNames: ['thread'],
      registers,
    }),
    up: new Gauge({
      name: 'cairn_rpc_thread_up',
      help: '1 while the read thread is started and taking requests, 0 while it starts or restarts',
      labelNames: ['thread'],
      registers,
    }),
  }
}

/**
 * The RPC read threads (`--rpc.threads N`): N worker threads, each with the chain's LevelDB open
 * beside the main thread and its own dispatcher of the read methods (`./read-worker.ts`). The
 * server hands them the HTTP bodies `servedOnReadThread` accepts; {@link handle} sends one to the
 * ready thread with the fewest in flight, preceded by the main thread's head when it moved since
 * that thread last heard (one message; messages arrive in order, so the thread answers at the head
 * the main thread would). No thread ready: null, the main thread answers. A thread that stops
 * unasked (a crash, an exit) answers what it had in flight with RPC_READ_THREAD_STOPPED (-32603)
 * and is restarted after a delay that doubles per stop in a row. {@link close} stops them all.
 * Emits `ready` (thread number) each time a thread starts taking requests.
 */
export class ReadThreadPool extends EventEmitter implements ReadThreads {
  private readonly slots: Slot[]
  private readonly metrics: ReadThreadMetrics | null
  private nextId = 1
  private closing = false

  constructor(
    private readonly opts: ReadThreadPoolOptions,
    private readonly modules: { chain: Pick<Chain, 'head' | 'store'>; logger: Logger; registry: Registry | null },
  ) {
    super()
    this.metrics = createReadThreadMetrics(modules.registry)
    this.slots = Array.from({ length: opts.threads }, (_, i) => ({
      thread: i + 1,
      worker: null,
      outbox: null,
      ready: false,
      sentHead: null,
      sentEpoch: 0,
      pending: new Map(),
      failures: 0,
      counted: this.metrics
        ? {
            requests: this.metrics.requests.labels(String(i + 1)),
            inFlight: this.metrics.inFlight.labels(String(i + 1)),
          }
        : null,
    }))
  }

  /** Starts every thread; resolves when each has opened the chain (or failed to: it is retried). */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.spawn(s)))
  }

  /** Threads taking requests now. */
  get readyThreads(): number {
    return this.slots.filter((s) => s.ready).length
  }

  /** The worker of thread `n` (1-based) while it runs (tests stop one to check recovery). */
  workerOf(thread: number): Worker | null {
    return this.slots[thread - 1]?.worker ?? null
  }

  handle(body: { value: unknown }, text: string): Promise<string | undefined> | null {
    let slot: Slot | undefined
    for (const s of this.slots) if (s.ready && (!slot || s.pending.size < slot.pending.size)) slot = s
    const outbox = slot?.worker && slot.outbox
    if (!slot || !outbox) return null
    const { head, store } = this.modules.chain
    const epoch = store.cacheEpoch
    if (slot.sentHead !== head || slot.sentEpoch !== epoch) {
      outbox.push({ type: 'head', hash: bytesToHex(head.hash()), clear: slot.sentEpoch !== epoch })
      slot.sentHead = head
      slot.sentEpoch = epoch
    }
    const id = this.nextId++
    const { counted, pending } = slot
    counted?.requests.inc()
    counted?.inFlight.inc()
    return new Promise((resolve) => {
      pending.set(id, {
        body: body.value,
        resolve: (answer) => {
          counted?.inFlight.dec()
          resolve(answer)
        },
      })
      outbox.push({ type: 'request', id, text })
    })
  }

  /** Stops every thread (pending requests answered with RPC_READ_THREAD_STOPPED). */
  async close(): Promise<void> {
    this.closing = true
    await Promise.all(
      this.slots.map(async (s) => {
        const w = s.worker
        if (!w) return
        const exited = new Promise<void>((r) => w.once('exit', () => r()))
        s.outbox?.push({ type: 'stop' })
        s.outbox?.flush()
        // A thread stuck in a long call is not waited for.
        const timer = setTimeout(() => void w.terminate(), 2000)
        await exited
        clearTimeout(timer)
      }),
    )
  }

  private spawn(slot: Slot): Promise<void> {
    const data: ReadWorkerData = {
      chaindata: this.opts.chaindata,
      thread: slot.thread,
      limits: this.opts.limits,
      clientVersion: this.opts.clientVersion,
      ...(this.opts.buildCommit ? { buildCommit: this.opts.buildCommit } : {}),
    }
    const worker = startWorker(data)
    slot.worker = worker
    slot.outbox = new Outbox<ToThread>((items) => worker.postMessage(items))
    slot.sentHead = null
    slot.sentEpoch = this.modules.chain.store.cacheEpoch
    const log = this.modules.logger.child({ thread: slot.thread })
    return new Promise((started) => {
      const receive = (m: FromThread) => {
        switch (m.type) {
          case 'ready':
            slot.ready = true
            slot.failures = 0
            this.metrics?.up.set({ thread: String(slot.thread) }, 1)
            log.debug({ head: m.head }, 'read thread ready')
            this.emit('ready', slot.thread)
            started()
            return
          case 'response': {
            const p = slot.pending.get(m.id)
            if (!p) return
            slot.pending.delete(m.id)
            p.resolve(m.failed ? stoppedAnswer(p.body, slot.thread) : m.text)
            return
          }
          case 'log':
            log[m.level](m.obj, m.msg)
            return
        }
      }
      worker.on('message', (batch: FromThread[]) => {
        for (const m of batch) receive(m)
      })
      worker.on('error', (err) => log.error({ err }, 'read thread failed'))
      worker.on('exit', (code) => {
        slot.ready = false
        slot.worker = null
        slot.outbox = null
        this.metrics?.up.set({ thread: String(slot.thread) }, 0)
        for (const p of slot.pending.values()) {
          this.metrics?.failed.inc({ thread: String(slot.thread) })
          p.resolve(stoppedAnswer(p.body, slot.thread))
        }
        slot.pending.clear()
        started()
        if (this.closing) return
        const delay = Math.min(5000, (this.opts.restartDelayMs ?? 100) * 2 ** slot.failures)
        slot.failures++
        log.warn({ code, restartInMs: delay }, 'read thread stopped; restarting it')
        const timer = setTimeout(() => {
          if (this.closing) return
          this.metrics?.restarts.inc({ thread: String(slot.thread) })
          void this.spawn(slot)
        }, delay)
        timer.unref()
      })
    })
  }
}

/** The JSON-RPC answer of a body whose thread stopped: an error per entry that has an id. */
function stoppedAnswer(body: unknown, thread: number): string | undefined {
  const error = toJsonRpcError(
    new CairnError(RpcErrorCode.READ_THREAD_STOPPED, `read thread ${thread} stopped while answering; retry`, {
      fault: 'transient',
    }),
  )
  const answer = (e: unknown) => {
    const id = (e as { id?: unknown } | null)?.id
    return id === undefined ? undefined : { jsonrpc: '2.0', id, error }
  }
  if (!Array.isArray(body)) {
    const a = answer(body)
    return a && JSON.stringify(a)
  }
  const all = body.map(answer).filter((a) => a !== undefined)
  return all.length > 0 ? JSON.stringify(all) : undefined
}

/**
 * Starts a read thread. From the sources (tsx), the worker registers tsx's loader first (hooks of
 * the parent do not reach worker threads in every setup); from the bundle, it runs
 * `dist/rpc-read-worker.js` beside `dist/start.js`.
 */
function startWorker(data: ReadWorkerData): Worker {
  const here = import.meta.url
  if (!here.endsWith('.ts')) {
    const dist = here.slice(0, here.lastIndexOf('/dist/') + '/dist/'.length)
    return new Worker(new URL('rpc-read-worker.js', dist), { workerData: data })
  }
  const entry = new URL('./read-worker.ts', here)
  const req = createRequire(here)
  const tsx = pathToFileURL(join(dirname(req.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}) })`
  return new Worker(boot, { eval: true, workerData: data })
}
