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
  /**
   * Jobs the shared ring holds (a power of two; default 4,096): a job that finds its slot still
   * taken (that many jobs waiting) is recovered on the calling thread instead.
   */
  ringSlots?: number
}

const JOB_BYTES = 32 + 64 + 1
const KEY_BYTES = 65
/** How long a closing worker may take to finish what it was given before it is terminated. */
const CLOSE_GRACE_MS = 2000
const RING_SLOTS = 4096
/** Results a worker gathers before it sends them (it sends what it has whenever the ring is empty). */
const RESULTS_PER_MESSAGE = 16
/**
 * Jobs waiting in the ring before a sleeping worker is woken within a turn (the rest wake at the end
 * of the turn). Waking on every job cost a wake-up per job: a worker recovers as fast as a batch
 * is decoded, empties the ring and sleeps again. Woken with a few queued, one worker keeps pace
 * with the decoding and stays awake.
 */
const WAKE_DEPTH = 16

// The control words shared with the workers (an Int32Array over a SharedArrayBuffer).
/** The next job to claim (workers compare-and-swap it). */
const HEAD = 0
/** The next job to write (the main thread only). */
const TAIL = 1
/** Set by close: workers finish the ring and end. */
const CLOSING = 2
// Each worker's sleep word: 1 while it sleeps (or is about to); whoever swaps it to 0 first wakes
// it, so a sleep costs at most one `Atomics.notify`.
const AWAKE = 0
const ASLEEP = 1
// A slot's state: free for the main thread to write, or holding a job not yet copied out.
const FREE = 0
const FILLED = 1

/**
 * The worker: libsecp256k1 through the same N-API addon as the main thread (loaded from this
 * package's dependencies). A synchronous loop: it claims the next job of the ring, copies it out,
 * frees its slot and recovers it; when the ring is empty it sends the results it has (65-byte
 * uncompressed keys, all zero for a signature that does not recover, with their sequence numbers)
 * and sleeps on its own word until the main thread wakes it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const secp = require('node:module').createRequire(workerData.from)('secp256k1/bindings')
const ctl = new Int32Array(workerData.ctl)
const sleep = new Int32Array(workerData.sleep)
const me = workerData.index
const ring = new Uint8Array(workerData.ring)
const state = new Int32Array(workerData.state)
const mask = state.length - 1
const job = new Uint8Array(${JOB_BYTES})
let seqs = []
let out = new Uint8Array(${RESULTS_PER_MESSAGE * KEY_BYTES})
const send = () => {
  if (seqs.length === 0) return
  const keys = out.subarray(0, seqs.length * ${KEY_BYTES})
  parentPort.postMessage({ seqs: Int32Array.from(seqs), keys }, [out.buffer])
  seqs = []
  out = new Uint8Array(${RESULTS_PER_MESSAGE * KEY_BYTES})
}
for (;;) {
  const h = Atomics.load(ctl, ${HEAD})
  if (h !== Atomics.load(ctl, ${TAIL})) {
    if (Atomics.compareExchange(ctl, ${HEAD}, h, (h + 1) | 0) !== h) continue
    const slot = h & mask
    job.set(ring.subarray(slot * ${JOB_BYTES}, (slot + 1) * ${JOB_BYTES}))
    Atomics.store(state, slot, ${FREE})
    try {
      const key = secp.ecdsaRecover(job.subarray(32, 96), job[96], job.subarray(0, 32), false)
      out.set(key, seqs.length * ${KEY_BYTES})
    } catch {}
    seqs.push(h)
    if (seqs.length === ${RESULTS_PER_MESSAGE}) send()
    continue
  }
  send()
  if (Atomics.load(ctl, ${CLOSING}) === 1) break
  Atomics.store(sleep, me, ${ASLEEP})
  // Written meanwhile (the writer saw the worker awake and did not wake it): take it back.
  if (Atomics.load(ctl, ${HEAD}) !== Atomics.load(ctl, ${TAIL}) || Atomics.load(ctl, ${CLOSING}) === 1) {
    Atomics.compareExchange(sleep, me, ${ASLEEP}, ${AWAKE})
    continue
  }
  Atomics.wait(sleep, me, ${ASLEEP})
}
`

/**
 * Signature recovery (secp256k1 public keys) on worker threads, so that admitting transactions
 * overlaps with the main thread's other work (sealing blocks, answering reads).
 *
 * Jobs go through a ring in shared memory, not messages: the main thread writes a job into its
 * slot and publishes it (a few atomic operations), and wakes a sleeping worker (`Atomics.notify`)
 * only once a few jobs wait, or at the end of the turn. A batch of a hundred transactions costs a
 * few wake-ups instead of a message per handful of jobs; a `postMessage` to an idle worker was
 * 26 µs of the main thread on a 2-vCPU VM, a quarter of a batch's decoding
 * (docs/performance-history.md, eighth session). The workers
 * claim jobs in order (compare-and-swap on the head), so the first transactions of a batch are
 * recovered first, and send their results back in messages of up to {@link RESULTS_PER_MESSAGE}.
 * A full ring (more than `ringSlots` jobs waiting) sends the next job to the calling thread.
 * Only with the native backend: without it {@link RecoverPool.create} returns undefined and
 * callers recover on the main thread as before.
 */
export class RecoverPool {
  private readonly workers: Worker[] = []
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * 4))
  private readonly sleep: Int32Array
  private readonly ring: Uint8Array
  private readonly state: Int32Array
  /** The callback of each job written and not answered yet, by sequence number. */
  private readonly pending = new Map<number, (key: Uint8Array | undefined) => void>()
  private tail = 0
  private wakeScheduled = false
  private closed = false
  /** A worker failed: every later recovery answers "not recovered" (callers recover themselves). */
  private broken = false
  /** Jobs recovered on the calling thread because the ring was full. */
  recoveredHere = 0

  private readonly threadCount: number

  private constructor(threads: number, slots: number) {
    this.threadCount = threads
    this.ring = new Uint8Array(new SharedArrayBuffer(slots * JOB_BYTES))
    this.state = new Int32Array(new SharedArrayBuffer(slots * 4))
    this.sleep = new Int32Array(new SharedArrayBuffer(threads * 4))
  }

  /**
   * Starts the worker threads, once; the first {@link recover} starts them too. Not at creation:
   * each thread boots a Node environment and loads the addon (tens of ms of CPU), which a node
   * starting up need not spend before its first answer (it starts them a second after it listens).
   */
  start(): void {
    if (this.workers.length > 0 || this.closed) return
    for (let i = 0; i < this.threadCount; i++) {
      const workerData = {
        from: import.meta.url,
        index: i,
        ctl: this.ctl.buffer,
        sleep: this.sleep.buffer,
        ring: this.ring.buffer,
        state: this.state.buffer,
      }
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
      worker.on('message', ({ seqs, keys }: { seqs: Int32Array; keys: Uint8Array }) => {
        for (let k = 0; k < seqs.length; k++) {
          const seq = seqs[k] as number
          const done = this.pending.get(seq)
          if (done === undefined) continue
          this.pending.delete(seq)
          const at = k * KEY_BYTES
          done(keys[at] === 4 ? keys.slice(at + 1, at + KEY_BYTES) : undefined)
        }
        this.keepAlive()
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
    const slots = opts.ringSlots ?? RING_SLOTS
    if (!Number.isInteger(Math.log2(slots)) || slots < 1 || slots > 1 << 20) {
      throw cryptoError(CryptoErrorCode.INVALID_ARGUMENT, 'ringSlots must be a power of two up to 2^20')
    }
    return new RecoverPool(opts.threads ?? Math.min(4, Math.max(1, availableParallelism())), slots)
  }

  get threads(): number {
    return this.threadCount
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
    // A thread starting now finds the jobs in the ring before it first sleeps.
    this.start()
    return new Promise((resolve) => {
      const keys: (Uint8Array | undefined)[] = new Array(jobs.length)
      let left = jobs.length
      jobs.forEach((job, i) => {
        this.submit(job, (key) => {
          keys[i] = key
          if (--left === 0) resolve(keys)
        })
      })
      this.keepAlive()
    })
  }

  /** Stops the workers once they have answered what they were given; later recoveries are refused. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Each worker finishes the ring, sends its last results and ends by itself. Terminating it
    // instead can stop it inside libsecp256k1's addon (a recovery, or the addon's finalizer on the
    // way out), where node-addon-api throws a C++ exception that aborts the whole process
    // ("terminate called after throwing an instance of 'Napi::Error'"). Terminated only if it has
    // not ended after `CLOSE_GRACE_MS`. Referenced while they stop: awaiting the exit of unref'd
    // workers alone would let the process end before the caller's next step.
    Atomics.store(this.ctl, CLOSING, 1)
    this.wakeSleeping(this.workers.length)
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
          }),
      ),
    )
    this.failAll() // anything a forced termination left unanswered: callers recover themselves
  }

  /**
   * Writes `job` into its slot of the ring and publishes it; wakes a sleeping worker once
   * {@link WAKE_DEPTH} jobs wait, and every one at the end of the turn. A slot still holding an
   * earlier job (the ring is full) makes this one the calling thread's.
   */
  private submit(job: RecoverJob, done: (key: Uint8Array | undefined) => void): void {
    const seq = this.tail
    const slot = seq & (this.state.length - 1)
    if (Atomics.load(this.state, slot) !== FREE) {
      this.recoveredHere++
      done(recoverHere(job))
      return
    }
    const at = slot * JOB_BYTES
    this.ring.set(job.hash, at)
    this.ring.set(job.sig, at + 32)
    this.ring[at + 96] = job.recovery
    Atomics.store(this.state, slot, FILLED)
    this.pending.set(seq, done)
    this.tail = (seq + 1) | 0
    Atomics.store(this.ctl, TAIL, this.tail)
    if (((this.tail - Atomics.load(this.ctl, HEAD)) | 0) >= WAKE_DEPTH) this.wakeSleeping(1)
    if (!this.wakeScheduled) {
      this.wakeScheduled = true
      setImmediate(() => this.wake())
    }
  }

  /** At the end of a turn: every sleeping worker wakes if jobs wait. */
  private wake(): void {
    this.wakeScheduled = false
    if (((this.tail - Atomics.load(this.ctl, HEAD)) | 0) > 0) this.wakeSleeping(this.workers.length)
  }

  /** Wakes up to `n` sleeping workers, each with one notify (the swap of its word decides who does). */
  private wakeSleeping(n: number): void {
    for (let i = 0; i < this.sleep.length && n > 0; i++) {
      if (Atomics.compareExchange(this.sleep, i, ASLEEP, AWAKE) === ASLEEP) {
        Atomics.notify(this.sleep, i, 1)
        n--
      }
    }
  }

  /** Workers hold the process open only while an answer is awaited. */
  private keepAlive(): void {
    for (const w of this.workers) {
      if (this.pending.size > 0) w.ref()
      else w.unref()
    }
  }

  private failAll(): void {
    this.broken = true
    const pending = [...this.pending.values()]
    this.pending.clear()
    this.keepAlive()
    for (const done of pending) done(undefined)
  }
}

/** One job's 64-byte key on this thread, as a worker computes it; undefined if it does not recover. */
function recoverHere(job: RecoverJob): Uint8Array | undefined {
  try {
    return (nativeSecp256k1 as NonNullable<typeof nativeSecp256k1>)
      .ecdsaRecover(job.sig, job.recovery, job.hash)
      .slice(1)
  } catch {
    return undefined
  }
}
