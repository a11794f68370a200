import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Chain } from '@cairn/chain'
import { type CorruptionSink, DbErrorCode } from '@cairn/db'
import {
  type BodyDispatcher,
  dispatchInContext,
  isPromise,
  parseBody,
  type ReadThreads,
  RpcErrorCode,
  type RpcLimits,
  type RpcSecurity,
  type SubscriptionSink,
  toJsonRpcError,
} from '@cairn/rpc'
import type { HealthChecks, RateLimitStore } from '@cairn/service-kit'
import { bytesToHex, CairnError, type Logger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { AggregatorRegistry, Registry } from 'prom-client'
import { type Ask, type FromThread, HeadSeq, Outbox, type ToThread } from './messages.ts'
import { createReadThreadMetrics, type ReadThreadMetrics } from './pool-metrics.ts'
import type { ReadWorkerData } from './read-worker.ts'
import type { ThreadServerOptions } from './thread-server.ts'
import { ThreadSockets } from './thread-sockets.ts'

export interface ReadThreadPoolOptions {
  /** Read threads to run (≥ 1). */
  threads: number
  /** The chain's LevelDB directory, opened by the main thread with `multithreading`. */
  chaindata: string
  limits: RpcLimits
  clientVersion: string
  buildCommit?: string
  /** The chain runs in reference mode (no speed shim): the threads open theirs so too. */
  reference?: boolean
  /** The dev chain's contract code size limit (`ChainOptions.codeSizeLimit`): the threads' calls keep it too. */
  codeSizeLimit?: bigint
  /** A shard's place (`config.cairn.shard`): the threads' calls run its bridge precompile too. */
  shard?: { index: number; count: number }
  /** First restart delay after a thread stops unasked, in ms; doubles per stop in a row, at most 5 s. */
  restartDelayMs?: number
  /**
   * Each thread also listens on the RPC port (SO_REUSEPORT, Node ≥ 22.12 on Linux: see
   * `reusePortSupported` in ./thread-count.ts) with these server settings, once {@link listen} names the port.
   */
  listener?: { server: ThreadServerOptions }
}

/** What a listening thread asks the main thread for ({@link ReadThreadPool} answers with these). */
export interface MainThreadServices {
  dispatcher: BodyDispatcher
  health: Pick<HealthChecks, 'run'> | null
  rateLimitStore: RateLimitStore
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
  /** The edited states' version when the thread last heard (a newer one: it re-reads them). */
  sentEdits: number
  /** Its listener is up (listener mode). */
  listening: boolean
  /** WebSocket connections of its listener whose bodies came here. */
  sockets: ThreadSockets
  /** Questions of the main thread to it (its registry for /metrics). */
  metricsAsked: Map<number, (json: unknown) => void>
  pending: Map<number, Pending>
  /** Stops in a row without serving (the restart delay's exponent). */
  failures: number
  /** This thread's counters, bound once (a labelled inc() hashes its labels on every call). */
  counted: { requests: { inc(): void }; inFlight: { inc(): void; dec(): void } } | null
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
  private starting: Promise<void> | undefined
  /** Listener mode: the shared head sequence, the port, what answers the threads' questions. */
  private readonly headSeq: HeadSeq | null
  private port: number | null = null
  private main: MainThreadServices | null = null
  private lastHead: { head: Block | null; epoch: number; edits: number } = { head: null, epoch: 0, edits: 0 }
  private unsubscribeHead: (() => void) | null = null

  constructor(
    private readonly opts: ReadThreadPoolOptions,
    private readonly modules: {
      chain: Pick<Chain, 'head' | 'replicaVersion' | 'events'>
      logger: Logger
      registry: Registry | null
      /** Told of the damaged entries the threads' reads find (the node's one log, metric and /ready). */
      onCorruption?: CorruptionSink
    },
  ) {
    super()
    this.metrics = createReadThreadMetrics(modules.registry)
    this.headSeq = opts.listener ? new HeadSeq() : null
    this.slots = Array.from({ length: opts.threads }, (_, i) => {
      const slot: Slot = {
        thread: i + 1,
        worker: null,
        outbox: null,
        ready: false,
        sentHead: null,
        sentEpoch: 0,
        sentEdits: 0,
        listening: false,
        // Notifications for the thread's WebSocket connections go out through its current worker.
        sockets: new ThreadSockets((conn, text) => slot.outbox?.push({ type: 'ws-send', conn, text })),
        metricsAsked: new Map(),
        pending: new Map(),
        failures: 0,
        counted: this.metrics
          ? {
              requests: this.metrics.requests.labels(String(i + 1)),
              inFlight: this.metrics.inFlight.labels(String(i + 1)),
            }
          : null,
      }
      return slot
    })
  }

  /** Starts every thread; resolves when each has opened the chain (or failed to: it is retried). */
  async start(): Promise<void> {
    this.starting ??= Promise.all(this.slots.map((s) => this.spawn(s))).then(() => {})
    await this.starting
  }

  /**
   * Resolves once every thread has come up (or failed to: it is retried) after {@link start}. The
   * node does not wait for it: until a thread is ready the main thread answers everything.
   */
  whenStarted(): Promise<void> {
    return this.start()
  }

  /** Threads whose own listener is up (listener mode). */
  get listeningThreads(): number {
    return this.slots.filter((s) => s.listening).length
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
    if (this.headSeq) this.syncHeads()
    else this.sendHead(slot)
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

  /** Names the head to `slot` if it moved since the thread last heard (`seq`: listener mode's number). */
  private sendHead(slot: Slot, seq?: number): void {
    const { head, replicaVersion } = this.modules.chain
    const { cacheEpoch: epoch, edits } = replicaVersion
    if (slot.sentHead === head && slot.sentEpoch === epoch && slot.sentEdits === edits && seq === undefined) return
    slot.outbox?.push({
      type: 'head',
      hash: bytesToHex(head.hash()),
      clear: slot.sentEpoch !== epoch,
      edits: slot.sentEdits !== edits,
      ...(seq !== undefined ? { seq } : {}),
    })
    slot.sentHead = head
    slot.sentEpoch = epoch
    slot.sentEdits = edits
  }

  /**
   * Listener mode: when the head, the caches' epoch or the edited states moved, bumps the shared
   * head sequence (at once: a thread answering after this waits for the head message) and names the
   * new head to every thread.
   */
  private syncHeads(): void {
    const seq = this.headSeq
    if (!seq) return
    const { head, replicaVersion } = this.modules.chain
    const now = { head, epoch: replicaVersion.cacheEpoch, edits: replicaVersion.edits }
    const last = this.lastHead
    if (last.head === now.head && last.epoch === now.epoch && last.edits === now.edits) return
    this.lastHead = now
    const n = seq.bump()
    for (const slot of this.slots) if (slot.worker) this.sendHead(slot, n)
  }

  /**
   * Listener mode: the main thread's server dispatches through this, so that a body it answers
   * itself that moved the head or edited its state without a block (anvil_setBalance, evm_revert)
   * bumps the head sequence before its caller is answered (a thread then waits for the new head).
   */
  mainDispatcher(dispatcher: BodyDispatcher): BodyDispatcher {
    return {
      handleParsed: (body, call) => {
        const answer = dispatcher.handleParsed(body, call)
        if (isPromise(answer)) {
          return Promise.resolve(answer).then((text) => {
            this.syncHeads()
            return text
          })
        }
        this.syncHeads()
        return answer
      },
    }
  }

  /**
   * Listener mode: starts every thread's listener on `port` (the main thread's, bound with
   * reusePort) and answers their questions with `main`. Resolves when each thread ready now has
   * listened; throws RPC_LISTEN_FAILED when one cannot. Threads that become ready later (still
   * starting, or restarted) listen by themselves.
   */
  async listen(port: number, main: MainThreadServices): Promise<void> {
    if (!this.headSeq) {
      throw new CairnError(RpcErrorCode.READ_THREAD_STOPPED, 'read threads listen only with the listener option', {
        fault: 'internal',
      })
    }
    this.port = port
    // Bodies a thread hands over go through the same wrapper as the main listener's own.
    this.main = { ...main, dispatcher: this.mainDispatcher(main.dispatcher) }
    const { events } = this.modules.chain
    const onHead = () => this.syncHeads()
    events.on('newHead', onHead)
    events.on('reorg', onHead)
    this.unsubscribeHead = () => {
      events.off('newHead', onHead)
      events.off('reorg', onHead)
    }
    this.syncHeads()
    // Threads still starting listen once ready (the `ready` handler).
    const failures = await Promise.all(this.slots.filter((s) => s.ready).map((s) => this.startListener(s)))
    const failed = failures.find((f) => f !== undefined)
    if (failed) {
      throw new CairnError(RpcErrorCode.LISTEN_FAILED, `a read thread could not listen on port ${port}: ${failed}`, {
        fault: 'caller',
        hint: 'run with --rpc.threads 0, or check that nothing else listens on the port',
      })
    }
  }

  private startListener(slot: Slot): Promise<string | undefined> {
    if (!slot.worker || this.port === null) return Promise.resolve(undefined)
    const { outbox } = slot
    return new Promise((resolve) => {
      this.once(`listening:${slot.thread}`, resolve)
      outbox?.push({ type: 'listen', port: this.port as number })
    })
  }

  /** Every thread's registry merged with the main thread's (prom-client's cluster aggregation): `/metrics` in listener mode. */
  readonly metricsPage = {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    metrics: async (): Promise<string> => {
      const own = this.modules.registry ? [await this.modules.registry.getMetricsAsJSON()] : []
      const theirs = await Promise.all(
        this.slots
          .filter((s) => s.worker && s.ready)
          .map(
            (s) =>
              new Promise<unknown>((resolve) => {
                const id = this.nextId++
                s.metricsAsked.set(id, resolve)
                s.outbox?.push({ type: 'metrics', id })
              }),
          ),
      )
      return AggregatorRegistry.aggregate([...own, ...(theirs as typeof own)]).metrics()
    },
  }

  /** Hot-reloaded RPC settings, to every listening thread. */
  reconfigure(security: RpcSecurity): void {
    for (const s of this.slots) s.outbox?.push({ type: 'reconfigure', security })
  }

  /** Re-read TLS files, in every listening thread. */
  reloadTls(): void {
    for (const s of this.slots) s.outbox?.push({ type: 'reload-tls' })
  }

  /** Answers a listening thread's question (messages.ts, `Ask`). */
  private async answer(slot: Slot, ask: Ask): Promise<unknown> {
    const main = this.main
    if (!main) {
      throw new CairnError(RpcErrorCode.READ_THREAD_STOPPED, 'a read thread asked before the pool listens', {
        fault: 'internal',
      })
    }
    switch (ask.what) {
      case 'dispatch': {
        const call: { reqId: string; connection?: SubscriptionSink } = { reqId: ask.reqId }
        if (ask.conn !== undefined) call.connection = slot.sockets.sinkOf(ask.conn)
        return dispatchInContext(main.dispatcher, parseBody(ask.text), call)
      }
      case 'rate':
        return main.rateLimitStore.hit(ask.key, ask.weight, ask.limit, ask.windowMs, ask.nowMs)
      case 'ready':
        return main.health ? main.health.run() : { status: 'ok', checks: {} }
      case 'metrics':
        return this.metricsPage.metrics()
    }
  }

  /** Stops every thread (pending requests answered with RPC_READ_THREAD_STOPPED). */
  async close(): Promise<void> {
    this.closing = true
    this.unsubscribeHead?.()
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
      ...(this.opts.reference ? { reference: true } : {}),
      ...(this.opts.codeSizeLimit !== undefined ? { codeSizeLimit: this.opts.codeSizeLimit } : {}),
      ...(this.opts.shard ? { shard: this.opts.shard } : {}),
      ...(this.opts.buildCommit ? { buildCommit: this.opts.buildCommit } : {}),
      ...(this.opts.listener && this.headSeq
        ? { listener: { server: this.opts.listener.server, headSeq: this.headSeq.buffer } }
        : {}),
    }
    const worker = startWorker(data)
    slot.worker = worker
    slot.outbox = new Outbox<ToThread>((items) => worker.postMessage(items))
    slot.sentHead = null
    const version = this.modules.chain.replicaVersion
    slot.sentEpoch = version.cacheEpoch
    slot.sentEdits = version.edits
    const log = this.modules.logger.child({ thread: slot.thread })
    return new Promise((started) => {
      const receive = (m: FromThread) => {
        switch (m.type) {
          case 'ready':
            slot.ready = true
            slot.failures = 0
            this.metrics?.up.set({ thread: String(slot.thread) }, 1)
            log.debug({ head: m.head }, 'read thread ready')
            if (this.headSeq) {
              // It opened the chain at the stored head: name the current one, at the current number.
              this.sendHead(slot, this.headSeq.get())
              // A thread restarted while the node serves listens again.
              if (this.port !== null) void this.startListener(slot)
            }
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
          case 'corruption':
            this.modules.onCorruption?.(new CairnError(DbErrorCode.CORRUPT, m.message, { fault: 'caller' }))
            return
          case 'listening':
            slot.listening = m.error === undefined
            if (m.error !== undefined) log.error({ error: m.error }, 'read thread could not listen')
            else log.info({ port: this.port }, 'read thread listening on the RPC port too (reusePort)')
            this.emit(`listening:${slot.thread}`, m.error)
            return
          case 'ask': {
            const { id } = m
            this.answer(slot, m.ask).then(
              (value) => slot.outbox?.push({ type: 'answer', id, value }),
              (err: unknown) => {
                log.error({ err, what: m.ask.what }, 'could not answer a read thread')
                slot.outbox?.push({ type: 'answer', id, value: undefined, error: (err as Error).message })
              },
            )
            return
          }
          case 'ws-close':
            slot.sockets.close(m.conn)
            return
          case 'metrics': {
            const resolve = slot.metricsAsked.get(m.id)
            slot.metricsAsked.delete(m.id)
            resolve?.(m.json)
            return
          }
        }
      }
      worker.on('message', (batch: FromThread[]) => {
        for (const m of batch) receive(m)
      })
      worker.on('error', (err) => log.error({ err }, 'read thread failed'))
      worker.on('exit', (code) => {
        slot.ready = false
        slot.listening = false
        slot.worker = null
        slot.outbox = null
        slot.sockets.closeAll()
        for (const resolve of slot.metricsAsked.values()) resolve([])
        slot.metricsAsked.clear()
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
