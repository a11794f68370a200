// A snapshot's input kept until its build is done, so that a build interrupted by a crash is
// retried without the upload: the entries in parts of INPUT_PART users, each part JSON
// (`[[userId, ["balance", …]], …]`) sealed with the at-rest key (AES-256-GCM, bound to the snapshot
// id and the part number: no part can be moved to another snapshot or place). The build thread
// opens them; the serving thread only stores and reads the sealed bytes.

import type { LiabilityEntry, SetChange } from '@cairn/reserves'
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import { type AtRestKey, open, seal } from '../kernel/at-rest.ts'
import type { Sql } from '../kernel/sql.ts'

/** Users per stored part (≈ 100–200 KB sealed: one short statement on PGlite). */
export const INPUT_PART = 2_000

const aad = (id: string, part: number) => `reserves-input:${id}:${part}`

const enc = new TextEncoder()

/** Seals one part (at most INPUT_PART entries) as part number `part` of snapshot `id`. */
export function sealPart(key: AtRestKey, id: string, part: number, entries: readonly LiabilityEntry[]): Uint8Array {
  const rows = entries.map((e) => [e.userId, e.balances.map(String)])
  return seal(key, enc.encode(JSON.stringify(rows)), aad(id, part))
}

/** Seals the entries in parts (CPU work: the upload thread does it for streamed uploads). */
export function sealInput(key: AtRestKey, id: string, entries: readonly LiabilityEntry[]): Uint8Array[] {
  const parts: Uint8Array[] = []
  for (let part = 0, i = 0; i < entries.length || part === 0; part++, i += INPUT_PART)
    parts.push(sealPart(key, id, part, entries.slice(i, i + INPUT_PART)))
  return parts
}

/** Stores sealed parts, one short statement per part, yielding between. */
export async function storeInput(sql: Sql, id: string, parts: readonly Uint8Array[]): Promise<void> {
  for (const [part, data] of parts.entries()) {
    await sql.query(
      `INSERT INTO reserves_build_input (snapshot_id, part, data) VALUES ($1, $2, decode($3, 'base64'))`,
      [id, part, Buffer.from(data).toString('base64')],
    )
    await new Promise((r) => setImmediate(r))
  }
}

/** Sealed part `part` of snapshot `id`, in a buffer of its own; undefined past the last. */
async function loadPart(sql: Sql, id: string, part: number): Promise<Uint8Array | undefined> {
  const r = await sql.query(
    `SELECT encode(data, 'base64') AS data FROM reserves_build_input WHERE snapshot_id = $1 AND part = $2`,
    [id, part],
  )
  if (!r[0]) return undefined
  return new Uint8Array(Buffer.from((r[0].data as string).replace(/\n/g, ''), 'base64'))
}

/** The sealed parts, in order (what the build thread is sent), each owning its whole buffer so it can be transferred. */
export async function loadInput(sql: Sql, id: string): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = []
  for (let part = 0; ; part++) {
    const data = await loadPart(sql, id, part)
    if (data === undefined) return parts
    parts.push(data)
  }
}

/**
 * Whether snapshot `id`'s kept input holds `userId` (GDPR erasure). Opened part by part, yielding
 * between parts and stopping at the first it is in: the serving thread never opens a whole
 * 1M-user input at once (~500 parts: seconds of decrypting and parsing in one task).
 */
export async function inputHoldsUser(sql: Sql, key: AtRestKey, id: string, userId: string): Promise<boolean> {
  for (let part = 0; ; part++) {
    const data = await loadPart(sql, id, part)
    if (data === undefined) return false
    if (openPart(key, id, part, data).some(([u]) => u === userId)) return true
    await new Promise((r) => setImmediate(r))
  }
}

/** The parts' buffers, for a postMessage transfer list (moved, not copied: no clone on the sender's thread). */
export function transferList(parts: readonly Uint8Array[]): ArrayBuffer[] {
  return parts.map((p, i) => {
    if (!(p.buffer instanceof ArrayBuffer) || p.byteOffset !== 0 || p.byteLength !== p.buffer.byteLength)
      throw new CairnError(
        ReservesErrorCode.BUILD_FAILED,
        `build input part ${i} shares its buffer: it cannot be transferred`,
        { fault: 'internal' },
      )
    return p.buffer
  })
}

const dec = new TextDecoder()

/** One sealed part's rows: `[userId, [balance, …]]`. */
function openPart(key: AtRestKey, id: string, part: number, data: Uint8Array): [string, string[]][] {
  return JSON.parse(dec.decode(open(key, data, aad(id, part)))) as [string, string[]][]
}

/** Seals an incremental build's changes (`[userId, [balance, …] | null]`, null: removed) in parts. */
export function sealChanges(key: AtRestKey, id: string, changes: readonly SetChange[]): Uint8Array[] {
  const parts: Uint8Array[] = []
  for (let part = 0, i = 0; i < changes.length || part === 0; part++, i += INPUT_PART) {
    const rows = changes.slice(i, i + INPUT_PART).map((c) => [c.userId, c.balances?.map(String) ?? null])
    parts.push(seal(key, enc.encode(JSON.stringify(rows)), aad(id, part)))
  }
  return parts
}

/** Opens sealed changes (in the build thread). */
export function openChanges(key: AtRestKey, id: string, parts: readonly Uint8Array[]): SetChange[] {
  const out: SetChange[] = []
  parts.forEach((data, part) => {
    for (const [userId, balances] of openPart(key, id, part, data) as [string, string[] | null][])
      out.push({ userId, balances: balances?.map(BigInt) ?? null })
  })
  return out
}

/** Opens sealed parts back into entries (in the build thread). */
export function openInput(key: AtRestKey, id: string, parts: readonly Uint8Array[]): LiabilityEntry[] {
  const entries: LiabilityEntry[] = []
  parts.forEach((data, part) => {
    for (const [userId, balances] of openPart(key, id, part, data))
      entries.push({ userId, balances: balances.map(BigInt) })
  })
  return entries
}

/** Drops the input once the build is done or abandoned. */
export async function dropInput(sql: Sql, id: string): Promise<void> {
  await sql.query('DELETE FROM reserves_build_input WHERE snapshot_id = $1', [id])
}
