/**
 * A mining thread (`worker_threads`): searches nonces `start, start + step, …` of the job it was
 * last given for a seal at or below the job's target, reports each seal it finds and, about once a
 * second, how many attempts it made. A new job replaces the current one between two attempts.
 * Argon2id runs on this thread (WebAssembly): one thread per core is what `--miner.threads` buys.
 */
import { parentPort } from 'node:worker_threads'
import { bytesToHex, CairnError } from '@cairn/utils'
import { PowErrorCode } from './errors.ts'
import type { MineJob, WorkerReport } from './miner-pool.ts'
import { nonceBytes, proofValue, sealProof } from './seal.ts'

const port = parentPort
if (!port) throw new CairnError(PowErrorCode.NO_WORK, 'mine-worker.ts runs as a worker thread', { fault: 'internal' })

let job: (MineJob & { next: bigint; targetValue: bigint }) | undefined
let running = false
let hashes = 0
let lastReport = Date.now()

const post = (msg: WorkerReport) => port.postMessage(msg)

port.on('message', (msg: { type: 'job'; job: MineJob } | { type: 'idle' }) => {
  if (msg.type === 'idle') {
    job = undefined
    return
  }
  job = { ...msg.job, next: BigInt(msg.job.start), targetValue: BigInt(msg.job.target) }
  if (!running) void loop()
})

async function loop(): Promise<void> {
  running = true
  try {
    while (job) {
      const j = job
      const nonce = j.next
      j.next = (nonce + BigInt(j.step)) % (1n << 64n)
      const n = nonceBytes(nonce)
      const proof = await sealProof(j.sealHash, n, j.seal)
      hashes++
      if (proofValue(proof) <= j.targetValue && job === j) {
        post({ type: 'found', id: j.id, nonce: bytesToHex(n), mixHash: bytesToHex(proof) })
      }
      const now = Date.now()
      if (now - lastReport >= 1000) {
        post({ type: 'hashes', count: hashes, ms: now - lastReport })
        hashes = 0
        lastReport = now
      }
      // Let a new job (or idle) in between attempts: argon2id resolves without a macrotask.
      await new Promise((resolve) => setImmediate(resolve))
    }
  } finally {
    running = false
  }
}
