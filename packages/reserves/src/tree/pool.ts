import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import { CairnError, startWorker } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import type { BuildJob } from './job.ts'

/** How many worker threads a build uses by default: one per core, at most 8. */
export function defaultWorkers(): number {
  return Math.min(8, availableParallelism())
}

/** The worker's entry (TypeScript through tsx, or the built JavaScript). */
function spawn(): Worker {
  return startWorker(new URL(`./worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url))
}

/** Worker threads started ahead of a build (their start-up overlaps reading and placing). */
export interface BuildPool {
  /** Sends the job to every worker; resolves when all are done: false when a sum reached 2^128. */
  run(job: BuildJob): Promise<boolean>
  /** Stops the workers (always call it, also when the build is refused before `run`). */
  close(): void
}

/** Starts `n` build workers that wait for a job. */
export function startPool(n: number): BuildPool {
  const workers = Array.from({ length: n }, () => {
    const w = spawn()
    // Until run() listens, a failed start is kept for it rather than crashing the process.
    const state: { err: unknown; exited: number | null } = { err: null, exited: null }
    w.on('error', (err) => {
      state.err ??= err
    })
    w.on('exit', (code) => {
      state.exited = code
    })
    return { w, state }
  })
  let control: Int32Array | null = null
  return {
    run(job) {
      control = job.control
      return Promise.all(
        workers.map(
          ({ w, state }) =>
            new Promise<boolean>((resolve, reject) => {
              const failed = (why: unknown) =>
                reject(
                  why instanceof Error
                    ? why
                    : new CairnError(ReservesErrorCode.BUILD_FAILED, `a build worker exited with code ${why}`, {
                        fault: 'internal',
                      }),
                )
              if (state.err) return failed(state.err)
              if (state.exited !== null) return failed(state.exited)
              w.once('message', (m: { ok: boolean }) => resolve(m.ok))
              w.once('error', failed)
              w.once('exit', (code) => failed(code))
              w.postMessage(job)
            }),
        ),
      ).then((r) => r.every(Boolean))
    },
    close() {
      // After a failure the others would hash on for nothing.
      if (control) Atomics.store(control, 1, 1)
      for (const { w } of workers) void w.terminate()
    },
  }
}
