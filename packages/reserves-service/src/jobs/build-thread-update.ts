// An incremental build on the build thread (chain.ts, tree/sparse-update.ts): the changes are
// opened here, the base is read through questions to the serving thread (the changed users'
// places, the leaf map, the sibling nodes), and what changed is sent back to be stored: the
// changed nodes, the new users' rows, the removed users' keys, the new leaf map.

import { ReservesErrorCode, sparseUpdate } from '@cairn/reserves'
import { decodeBalances, toHex } from '@cairn/reserves/verifier'
import { CairnError } from '@cairn/utils'
import { open, seal, userKey } from '../kernel/at-rest.ts'
import { NODE_BATCH } from '../kernel/chain.ts'
import { openChanges } from './build-input.ts'
import type { BuildThreadMessage, BuildThreadReply, UpdateRequest } from './build-thread-protocol.ts'

export interface ThreadIo {
  send(m: BuildThreadMessage, transfer?: ArrayBuffer[]): Promise<void>
  ask(m: BuildThreadMessage): Promise<BuildThreadReply>
}

const protocolError = (message: string) =>
  new CairnError(ReservesErrorCode.BUILD_FAILED, message, { fault: 'internal' })

/** Nodes per `ask-nodes` question (one statement each). */
const ASK_BATCH = 8192

export async function runUpdate(req: UpdateRequest, io: ThreadIo): Promise<void> {
  const key = { id: req.keyId, key: req.key }
  const { lineage } = req.place
  const changes = openChanges(key, req.snapshotId, req.parts)
  req.parts.length = 0
  const w = req.k * 16
  const keyOf = (id: string) => userKey(key, lineage, id)
  const result = await sparseUpdate(
    {
      hash: req.hash,
      k: req.k,
      depth: req.base.depth,
      async users(ids) {
        const byKey = new Map(ids.map((id) => [Buffer.from(keyOf(id)).toString('base64'), id]))
        const r = await io.ask({ type: 'ask-users', keys: ids.map(keyOf) })
        const out = new Map<string, { leafIndex: number; salt: Uint8Array }>()
        if (!('users' in r)) throw protocolError('build thread: expected users')
        for (const u of r.users) {
          const id = byKey.get(u.key)
          if (id !== undefined) out.set(id, { leafIndex: u.leafIndex, salt: open(key, u.saltEnc, lineage) })
        }
        return out
      },
      async occupancy() {
        const r = await io.ask({ type: 'ask-occupancy' })
        if (!('occupancy' in r)) throw protocolError('build thread: expected a leaf map')
        return r.occupancy
      },
      async nodes(levels, indexes) {
        const hashes = new Uint8Array(levels.length * 32)
        const balances = new Uint8Array(levels.length * w)
        for (let from = 0; from < levels.length; from += ASK_BATCH) {
          const to = Math.min(levels.length, from + ASK_BATCH)
          const r = await io.ask({
            type: 'ask-nodes',
            levels: levels.slice(from, to),
            indexes: indexes.slice(from, to),
          })
          if (!('hashes' in r) || r.count !== to - from) throw protocolError('build thread: base nodes missing')
          hashes.set(r.hashes, from * 32)
          balances.set(r.balances, from * w)
        }
        return { hashes, balances }
      },
    },
    changes,
  )
  const enc = new TextEncoder()
  for (let i = 0; i < result.added.length; i += req.userBatch) {
    const rows = result.added.slice(i, i + req.userBatch).map((u) => ({
      userKey: keyOf(u.userId),
      userIdEnc: seal(key, enc.encode(u.userId), lineage),
      saltEnc: seal(key, u.salt, lineage),
      leafIndex: u.leafIndex,
    }))
    await io.send({ type: 'users', rows })
  }
  for (let i = 0; i < result.removed.length; i += req.userBatch)
    await io.send({ type: 'removed', keys: result.removed.slice(i, i + req.userBatch).map((u) => keyOf(u.userId)) })
  for (const l of result.levels)
    for (let from = 0; from < l.indexes.length; from += NODE_BATCH) {
      const to = Math.min(l.indexes.length, from + NODE_BATCH)
      const indexes = l.indexes.slice(from, to)
      const hashes = l.hashes.slice(from * 32, to * 32)
      const balances = l.balances.slice(from * w, to * w)
      await io.send({ type: 'nodes', level: l.level, indexes, hashes, balances }, [
        indexes.buffer as ArrayBuffer,
        hashes.buffer as ArrayBuffer,
        balances.buffer as ArrayBuffer,
      ])
    }
  await io.send({ type: 'occupancy', bits: result.occupancy })
  await io.send({
    type: 'done',
    depth: req.base.depth,
    rootHash: toHex(result.rootHash),
    totals: decodeBalances(result.rootBalances).map(String),
    users: req.base.users + result.added.length - result.removed.length,
  })
}
