/**
 * The native KZG context in a child process: what answers a node's blob verifications and cell
 * proofs (`BlobKzg`'s asynchronous requests and `prepare`).
 *
 * Why a process and not a worker thread: creating the context is one synchronous native call of
 * ~4–5 s of CPU (20 s and more on a loaded machine), and a thread inside a native call cannot be
 * stopped — `process.exit` joins every worker thread, so a node stopped during the setup (which it
 * starts a second after it answers) stayed alive until the setup ended: 3–22 s after "stopped
 * cleanly", past compose's 10 s grace (exit 137). A child process is killed when this process
 * exits (SIGKILL from the `exit` event) and leaves by itself when its parent is gone (the IPC
 * channel closes), so nothing of it outlives the node.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { CairnError } from '@cairn/utils'
import { CryptoErrorCode } from './errors.ts'

/** A request's answer: `ok` (verifications), `proofs` (cell proofs) or the library's refusal. */
export type KzgAnswer = { ok?: boolean; proofs?: Uint8Array[]; error?: string }
export type KzgOp = 'verifyBlob' | 'verifyCell' | 'cellProofs'

/**
 * The child: one native context, made at its start. Requests `{ id, op, blobs, commitments,
 * proofs }` over IPC (advanced serialization: byte arrays as they are); answers `{ id, ok }`,
 * `{ id, proofs }` or `{ id, error }`. argv[1]: the module URL that resolves the binding.
 */
const CHILD_SOURCE = `
process.on('disconnect', () => process.exit(0))
const { DasContextJs } = require('node:module').createRequire(process.argv[1])('@crate-crypto/node-eth-kzg')
const ctx = DasContextJs.create({ usePrecomp: false })
const CELLS = Number(process.argv[2])
process.on('message', async ({ id, op, blobs, commitments, proofs }) => {
  try {
    if (op === 'verifyBlob') {
      process.send({ id, ok: await ctx.asyncVerifyBlobKzgProofBatch(blobs, commitments, proofs) })
    } else if (op === 'verifyCell') {
      const cells = (await Promise.all(blobs.map((b) => ctx.asyncComputeCells(b)))).flat()
      const dup = [], indices = []
      for (const c of commitments) for (let j = 0; j < CELLS; j++) { dup.push(c); indices.push(j) }
      process.send({ id, ok: await ctx.asyncVerifyCellKzgProofBatch(dup, indices, cells, proofs) })
    } else {
      process.send({ id, proofs: (await ctx.asyncComputeCellsAndKzgProofs(blobs[0])).proofs })
    }
  } catch (err) {
    process.send({ id, error: String(err && err.message ? err.message : err) })
  }
})
`

export interface KzgProcessOptions {
  /** A module URL from which `@crate-crypto/node-eth-kzg` resolves. */
  from: string
  cellsPerBlob: number
}

/** The child process holding the native context, started on the first request or `prepare()`. */
export class KzgProcess {
  private child: ChildProcess | undefined
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (a: KzgAnswer) => void; reject: (e: unknown) => void }>()

  constructor(private readonly opts: KzgProcessOptions) {}

  /** Starts the child (its context is made as it starts) without a request. */
  prepare(): void {
    this.start()
  }

  request(op: KzgOp, blobs: Uint8Array[], commitments: Uint8Array[], proofs: Uint8Array[]): Promise<KzgAnswer> {
    const child = this.start()
    const id = this.nextId++
    return new Promise<KzgAnswer>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      // Held open while an answer is awaited, not otherwise.
      child.channel?.ref()
      child.send({ id, op, blobs, commitments, proofs })
    })
  }

  /** Kills the child (pending requests fail with BACKEND_UNAVAILABLE); the next request starts another. */
  close(): void {
    this.child?.kill('SIGKILL')
  }

  /** The child's pid while it runs (tests). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  private start(): ChildProcess {
    if (this.child) return this.child
    const child = spawn(process.execPath, ['-e', CHILD_SOURCE, this.opts.from, String(this.opts.cellsPerBlob)], {
      // stdout not shared: the child prints nothing, and an inherited pipe stays open while it lives.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
      // NODE_OPTIONS as the parent's minus nothing: the child loads no TypeScript.
      env: process.env,
    })
    const kill = () => child.kill('SIGKILL')
    process.once('exit', kill)
    child.on('message', (m: KzgAnswer & { id: number }) => {
      const p = this.waiting.get(m.id)
      this.waiting.delete(m.id)
      if (this.waiting.size === 0) child.channel?.unref()
      p?.resolve(m)
    })
    const fail = (why: string) => {
      if (this.child !== child) return
      this.child = undefined
      process.off('exit', kill)
      const all = [...this.waiting.values()]
      this.waiting.clear()
      const err = new CairnError(CryptoErrorCode.BACKEND_UNAVAILABLE, `the KZG process stopped: ${why}`, {
        fault: 'transient',
        hint: 'retry; a new process is started on the next request',
      })
      for (const p of all) p.reject(err)
    }
    child.on('error', (err) => fail(err.message))
    child.on('exit', (code, signal) => fail(signal ? `signal ${signal}` : `exit code ${code}`))
    child.unref()
    child.channel?.unref()
    this.child = child
    return child
  }
}
