import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { CryptoErrorCode, cryptoError } from './errors.ts'
import { nativeSecp256k1 } from './secp256k1.ts'

/** One public-key recovery: a 32-byte message hash, a 64-byte `r ‖ s` signature, recovery id 0/1. */
export interface RecoverJob {
  hash: Uint8Array
  sig: Uint8Array
  recovery: number
}

export interface RecoverPoolOptions {
  /** Worker threads; default: one per CPU, at most 4. */
  threads?: number
}

const JOB_BYTES = 32 + 64 + 1
const KEY_BYTES = 65
/** How long a closing worker may take to finish what it was sent before it is terminated. */
const CLOSE_GRACE_MS = 2000
/** Most jobs per message: a large request comes back in parts, the first ones early. */
const MAX_MESSAGE_JOBS = 64
/**
 * Jobs queued in one turn that are sent at once instead of at the end of the turn: the workers
 * start on a batch's first transactions while the main thread still decodes the rest of it (the
 * end of the turn came ~2.5 ms after the first job under load, the workers idle meanwhile).
 */
const EAGER_JOBS = 16

/**
 * The worker: libsecp256k1 through the same N-API addon as the main thread (loaded from this
 * package's dependencies). Input: jobs packed as hash ‖ sig ‖ recovery id; output: 65-byte
 * uncompressed keys, all zero for a signature that does not recover.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const secp = require('node:module').createRequire(workerData.from)('secp256k1/bindings')
parentPort.on('message', (msg) => {
  if (msg === 'close') return parentPort.close() // after the jobs before it: the thread then ends by itself
  const { id, jobs } = msg
  const n = jobs.length / ${JOB_BYTES}
  const out = new Uint8Array(n * ${KEY_BYTES})
  for (let i = 0; i < n; i++) {
    const o = i * ${JOB_BYTES}
    try {
      const key = secp.ecdsaRecover(jobs.subarray(o + 32, o + 96), jobs[o + 96], jobs.subarray(o, o + 32), false)
      out.set(key, i * ${KEY_BYTES})
    } catch {}
  }
  parentPort.postMessage({ id, out }, [out.buffer])
})
`

interface Pending {
  jobs: RecoverJob[]
  resolve: (keys: (Uint8Array | undefined)[]) => void
}

/**
 * Signature recovery (secp256k1 public keys) on worker threads, so that admitting transactions
 * overlaps with the main thread's other work (sealing blocks, answering reads). Requests made in
 * the same turn of the event loop (a JSON-RPC batch) are packed into few messages: sent as soon
 * as {@link EAGER_JOBS} are queued, the rest at the end of the turn.
 * Only with the native backend: without it {@link RecoverPool.create} returns undefined and
 * callers recover on the main thread as before.
 */
export class RecoverPool {
  private readonly workers: Worker[] = []
  private readonly waiting = new Map<number, (out: Uint8Array) => void>()
  private queue: Pending[] = []
  private queuedJobs = 0
  private scheduled = false
  private nextId = 0
  private next = 0
  private closed = false
  /** A worker failed: every later recovery answers "not recovered" (callers recover themselves). */
  private broken = false

  private constructor(threads: number) {
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { from: import.meta.url } })
      worker.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
        const done = this.waiting.get(id)
        this.waiting.delete(id)
        this.keepAlive()
        done?.(out)
      })
      // A worker that fails answers nothing: its callers recover on the main thread instead.
      worker.on('error', () => this.failAll())
      // Ending on close is expected (its answers came first); any other exit is a failure.
      worker.on('exit', () => {
        if (!this.closed) this.failAll()
      })
      worker.unref()
      this.workers.push(worker)
    }
  }

  /** A pool of `threads` workers, or undefined when libsecp256k1 is not loaded. */
  static create(opts: RecoverPoolOptions = {}): RecoverPool | undefined {
    if (!nativeSecp256k1) return undefined
    return new RecoverPool(opts.threads ?? Math.min(4, Math.max(1, availableParallelism())))
  }

  get threads(): number {
    return this.workers.length
  }

  /**
   * Recovers the 64-byte public keys (`x ‖ y`, no 0x04 prefix, as @ethereumjs's `ecrecover`
   * returns) of `jobs`; undefined for a signature that does not recover.
   */
  recover(jobs: RecoverJob[]): Promise<(Uint8Array | undefined)[]> {
    if (this.closed) {
      return Promise.reject(cryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'the recovery pool is closed'))
    }
    if (jobs.length === 0) return Promise.resolve([])
    if (this.broken) return Promise.resolve(jobs.map(() => undefined))
    return new Promise((resolve) => {
      this.queue.push({ jobs, resolve })
      this.queuedJobs += jobs.length
      if (this.queuedJobs >= EAGER_JOBS) this.dispatch()
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.dispatch())
      }
    })
  }

  /** Stops the workers; pending recoveries never settle after this. */
  async close(): Promise<void> {
    if (this.scheduled) this.dispatch() // what was asked before close is sent (and answered) first
    this.closed = true
    // Each worker answers what it was sent, then closes its port and ends by itself. Terminating
    // it instead can stop it inside libsecp256k1's addon (a recovery, or the addon's finalizer on
    // the way out), where node-addon-api throws a C++ exception that aborts the whole process
    // ("terminate called after throwing an instance of 'Napi::Error'"). Terminated only if it has
    // not ended after `CLOSE_GRACE_MS`. Referenced while they stop: awaiting the exit of unref'd
    // workers alone would let the process end before the caller's next step.
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.threadId === -1) return resolve() // already gone (a worker that failed)
            const force = setTimeout(() => void w.terminate().then(() => resolve()), CLOSE_GRACE_MS)
            w.once('exit', () => {
              clearTimeout(force)
              resolve()
            })
            w.ref()
            w.postMessage('close')
          }),
      ),
    )
    this.failAll() // anything a forced termination left unanswered: callers recover themselves
  }

  /** Workers hold the process open only while an answer is awaited. */
  private keepAlive(): void {
    for (const w of this.workers) {
      if (this.waiting.size > 0) w.ref()
      else w.unref()
    }
  }

  private failAll(): void {
    this.broken = true
    const waiting = [...this.waiting.values()]
    this.waiting.clear()
    this.keepAlive()
    for (const done of waiting) done(new Uint8Array(1 << 20))
  }

  /**
   * Sends everything queued so far this turn, in order, split evenly across the workers in
   * messages of at most {@link MAX_MESSAGE_JOBS} jobs, handed out in turn: each request resolves
   * as soon as its own jobs are back, so the requests of a turn come back roughly in the order
   * they were made (a block's first transactions first).
   */
  private dispatch(): void {
    this.scheduled = false
    const pending = this.queue
    this.queue = []
    this.queuedJobs = 0
    if (pending.length === 0) return
    if (this.closed) {
      // Not sent before close (nothing is queued after it; defensive): callers recover themselves.
      for (const p of pending) p.resolve(p.jobs.map(() => undefined))
      return
    }
    const all: RecoverJob[] = []
    const owner: number[] = [] // job index → request index
    const firsts: number[] = [] // index of each request's first job
    const left = pending.map((p) => p.jobs.length) // jobs of each request not back yet
    pending.forEach((p, r) => {
      firsts.push(all.length)
      for (const j of p.jobs) {
        all.push(j)
        owner.push(r)
      }
    })
    const keys: (Uint8Array | undefined)[] = new Array(all.length)
    const settle = (r: number) => {
      const p = pending[r] as Pending
      const first = firsts[r] as number
      p.resolve(keys.slice(first, first + p.jobs.length))
    }
    const per = Math.min(MAX_MESSAGE_JOBS, Math.ceil(all.length / this.workers.length))
    for (let start = 0; start < all.length; start += per) {
      const chunk = all.slice(start, start + per)
      const packed = new Uint8Array(chunk.length * JOB_BYTES)
      chunk.forEach((j, i) => {
        packed.set(j.hash, i * JOB_BYTES)
        packed.set(j.sig, i * JOB_BYTES + 32)
        packed[i * JOB_BYTES + 96] = j.recovery
      })
      const id = this.nextId++
      this.waiting.set(id, (out) => {
        for (let i = 0; i < chunk.length; i++) {
          const key = out.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES)
          keys[start + i] = key[0] === 4 ? key.slice(1) : undefined
          const r = owner[start + i] as number
          const rest = (left[r] as number) - 1
          left[r] = rest
          if (rest === 0) settle(r)
        }
      })
      const worker = this.workers[this.next++ % this.workers.length] as Worker
      worker.postMessage({ id, jobs: packed }, [packed.buffer])
    }
    this.keepAlive()
  }
}
