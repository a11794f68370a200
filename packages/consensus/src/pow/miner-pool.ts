/**
 * Mining threads: N `worker_threads` (./mine-worker.ts) searching disjoint nonce sequences of one
 * job (thread i of N takes `base + i`, `base + i + N`, …) for a seal at or below the job's target.
 * A new job replaces the old one on every thread at once; each seal found is handed to `onFound`
 * with its job's id (the caller decides whether it is still wanted). Used by the PoW engine
 * (`--mine --miner.threads N`) and by the external miner (`cairn miner`), which differ only in where
 * jobs come from.
 */
import { randomBytes } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { hexToBytes, type Logger, startWorker } from '@cairn/utils'
import type { Seal, SealParams } from './seal.ts'

/** What one thread is asked to search (plain data: it crosses to the thread). */
export interface MineJob {
  id: number
  sealHash: Uint8Array
  /** The target as a decimal string (bigints do not cross `postMessage` in every Node). */
  target: string
  seal: SealParams
  /** This thread's first nonce and step (decimal strings). */
  start: string
  step: string
}

/** What a thread reports. */
export type WorkerReport =
  | { type: 'found'; id: number; nonce: string; mixHash: string }
  | { type: 'hashes'; count: number; ms: number }

export interface MinerPoolModules {
  logger: Logger
  /** A seal met the target of job `id`. */
  onFound(id: number, seal: Seal): void
  /** A thread made `count` attempts (about once a second per thread). */
  onHashes?(count: number): void
  /** The source of the nonce base (default: crypto random). */
  random?: () => bigint
}

/** Attempts per second over the last {@link RATE_WINDOW_MS}. */
const RATE_WINDOW_MS = 10_000

export class MinerPool {
  private readonly workers: Worker[] = []
  private nextId = 1
  private readonly samples: { at: number; count: number }[] = []
  private closed = false

  constructor(
    readonly opts: {
      threads: number
      seal: SealParams
      /** The threads' entry: default ./mine-worker beside this file; a bundle passes its own build of it. */
      worker?: URL
    },
    private readonly modules: MinerPoolModules,
  ) {
    const entry =
      opts.worker ?? new URL(`./mine-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url)
    for (let i = 0; i < opts.threads; i++) {
      const w = startWorker(entry)
      w.unref()
      w.on('message', (msg: WorkerReport) => this.onReport(msg))
      w.on('error', (err) => modules.logger.error({ err, thread: i }, 'mining thread failed'))
      this.workers.push(w)
    }
  }

  /** Starts every thread on a new search of `sealHash` below `target`; returns the job's id. */
  mine(sealHash: Uint8Array, target: bigint): number {
    const id = this.nextId++
    const base = this.modules.random ? this.modules.random() : BigInt(`0x${randomBytes(8).toString('hex')}`)
    const step = BigInt(this.workers.length)
    this.workers.forEach((w, i) => {
      const start = (base + BigInt(i)) % (1n << 64n)
      const job: MineJob = {
        id,
        sealHash,
        target: target.toString(),
        seal: { ...this.opts.seal },
        start: start.toString(),
        step: step.toString(),
      }
      w.postMessage({ type: 'job', job })
    })
    return id
  }

  /** Stops searching (the threads stay, idle). */
  idle(): void {
    for (const w of this.workers) w.postMessage({ type: 'idle' })
  }

  /** Attempts per second of all threads over the last ten seconds. */
  hashRate(now = Date.now()): number {
    while (this.samples.length > 0 && (this.samples[0]?.at ?? now) < now - RATE_WINDOW_MS) this.samples.shift()
    const total = this.samples.reduce((s, x) => s + x.count, 0)
    return total / (RATE_WINDOW_MS / 1000)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  private onReport(msg: WorkerReport): void {
    if (this.closed) return
    if (msg.type === 'found') {
      this.modules.onFound(msg.id, {
        nonce: hexToBytes(msg.nonce as `0x${string}`),
        mixHash: hexToBytes(msg.mixHash as `0x${string}`),
      })
    } else {
      this.samples.push({ at: Date.now(), count: msg.count })
      this.modules.onHashes?.(msg.count)
    }
  }
}
