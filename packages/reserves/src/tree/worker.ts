// A build worker: loads the hashes, then hashes chunks of the job it is sent until none is left
// (see job.ts). It starts before the job exists, so its start-up overlaps the caller's preparation.
import { parentPort } from 'node:worker_threads'
import { initCrypto } from '@cairn/crypto'
import type { BuildJob } from './job.ts'
import { runChunks } from './job.ts'
import { digestFor } from './kernel.ts'

await initCrypto()
parentPort?.once('message', (job: BuildJob) => {
  parentPort?.postMessage({ ok: runChunks(job, digestFor(job.hash)) })
})
