// The build thread's entry: everything CPU-heavy about a snapshot build happens here, off the
// serving thread — opening the stored input, checking and placing users, hashing (itself on
// buildTreeParallel's worker threads), the users' lookup keys and sealed ids and salts, slicing
// the levels into chunks. The serving thread only runs the short INSERTs it is sent, acknowledging
// each message; at most WINDOW messages are unacknowledged (memory stays bounded however large the
// snapshot).
import { parentPort } from 'node:worker_threads'
import { initCrypto } from '@cairn/crypto'
import { buildTreeParallel, occupancyOf } from '@cairn/reserves'
import { decodeBalances, toHex } from '@cairn/reserves/verifier'
import { seal, userKey } from '../kernel/at-rest.ts'
import { openInput } from './build-input.ts'
import type { BuildRequest, BuildThreadMessage, BuildThreadReply, UpdateRequest } from './build-thread-protocol.ts'
import { runUpdate } from './build-thread-update.ts'

const WINDOW = 4
let unacked = 0
let wake: (() => void) | null = null
let answer: ((r: BuildThreadReply) => void) | null = null
const port = parentPort!
port.on('message', (m: { type: 'ack' } | BuildThreadReply | BuildRequest | UpdateRequest) => {
  if (m.type === 'ack') {
    unacked--
    wake?.()
    wake = null
    return
  }
  if (m.type === 'reply') {
    const a = answer
    answer = null
    a?.(m)
    return
  }
  ;(m.type === 'build' ? run(m) : initCrypto().then(() => runUpdate(m, { send, ask }))).catch((err: unknown) => {
    port.postMessage({
      type: 'error',
      message: (err as Error).message,
      code: (err as { code?: string }).code,
    } satisfies BuildThreadMessage)
  })
})

async function send(m: BuildThreadMessage, transfer: ArrayBuffer[] = []): Promise<void> {
  while (unacked >= WINDOW) await new Promise<void>((r) => (wake = r))
  unacked++
  port.postMessage(m, transfer)
}

/** Asks the serving thread (which holds the database) a question; once every write sent is acknowledged. */
async function ask(m: BuildThreadMessage): Promise<BuildThreadReply> {
  while (unacked > 0) await new Promise<void>((r) => (wake = r))
  return new Promise((resolve) => {
    answer = resolve
    port.postMessage(m)
  })
}

async function run(req: BuildRequest): Promise<void> {
  await initCrypto()
  const key = { id: req.keyId, key: req.key }
  const entries = openInput(key, req.snapshotId, req.parts)
  req.parts.length = 0
  const tree = await buildTreeParallel(entries, { hash: req.hash, currencies: req.currencies, minDepth: req.minDepth })
  const enc = new TextEncoder()
  for (let i = 0; i < tree.users.length; i += req.userBatch) {
    const rows = tree.users.slice(i, i + req.userBatch).map((u) => ({
      userKey: userKey(key, req.snapshotId, u.userId),
      userIdEnc: seal(key, enc.encode(u.userId), req.snapshotId),
      saltEnc: seal(key, u.salt, req.snapshotId),
      leafIndex: u.leafIndex,
    }))
    await send({ type: 'users', rows })
  }
  await send({
    type: 'occupancy',
    bits: occupancyOf(
      tree.depth,
      tree.users.map((u) => u.leafIndex),
    ),
  })
  const w = req.currencies.length * 16
  for (const [level, l] of tree.levels.entries()) {
    for (let c = 0; c * req.levelChunk < l.count || c === 0; c++) {
      const from = c * req.levelChunk
      const to = Math.min(l.count, from + req.levelChunk)
      const hashes = l.hashes.slice(from * 32, to * 32)
      const balances = l.balances.slice(from * w, to * w)
      await send({ type: 'level', level, chunk: c, hashes, balances }, [
        hashes.buffer as ArrayBuffer,
        balances.buffer as ArrayBuffer,
      ])
    }
  }
  const root = tree.levels[tree.depth]!
  await send({
    type: 'done',
    depth: tree.depth,
    rootHash: toHex(root.hashes),
    totals: decodeBalances(root.balances).map(String),
    users: tree.users.length,
  })
}
