import { ReservesErrorCode } from '@cairn/reserves'
import type { Currency, ProofNode, ProofV1 } from '@cairn/reserves/verifier'
import { decodeBalances, toHex, U128_BYTES } from '@cairn/reserves/verifier'
import { CairnError } from '@cairn/utils'
import { type AtRestKey, open, userKey } from './at-rest.ts'
import { type ChainPlace, chainInUse, changedLeaves, inVersion, placeOf, readNodes, undoVersion } from './chain.ts'
import type { Row, Sql } from './sql.ts'

/** What the API says about a snapshot. */
export interface SnapshotInfo {
  id: string
  status: 'building' | 'built' | 'failed'
  hash: 'sha256' | 'keccak256'
  currencies: Currency[]
  minDepth: number
  depth: number | null
  userCount: number
  root: ProofNode | null
  error: string | null
  anchor: Record<string, unknown> | null
  createdAt: string
  builtAt: string | null
  /** The snapshot this one was built from incrementally (null: a full build). */
  base: string | null
}

function info(r: Row): SnapshotInfo {
  return {
    id: r.id as string,
    status: r.status as SnapshotInfo['status'],
    hash: r.hash as SnapshotInfo['hash'],
    currencies: r.currencies as Currency[],
    minDepth: Number(r.min_depth),
    depth: r.depth === null ? null : Number(r.depth),
    userCount: Number(r.user_count),
    root: r.root_hash ? { hash: r.root_hash as string, balances: r.totals as string[] } : null,
    error: (r.error as string | null) ?? null,
    anchor: (r.anchor as Record<string, unknown> | null) ?? null,
    createdAt: new Date(r.created_at as string).toISOString(),
    builtAt: r.built_at ? new Date(r.built_at as string).toISOString() : null,
    base: (r.base_id as string | null) ?? null,
  }
}

/** Nodes per stored chunk of a snapshot's levels. */
const chunkOf = (r: Row): number =>
  r.level_chunk === null || r.level_chunk === undefined ? WHOLE_LEVEL : Number(r.level_chunk)

const notFound = (id: string) =>
  new CairnError(ReservesErrorCode.SNAPSHOT_UNKNOWN, `snapshot ${id} does not exist`, { fault: 'caller' })

/**
 * Nodes per stored level chunk (128 KiB of hashes): each INSERT stays short — PGlite runs on the
 * serving thread and takes ~0.35 s per MiB of bytea — and a proof reads one chunk's slice.
 */
export const LEVEL_CHUNK = 1 << 12

/** Chunk size of a snapshot stored before chunks (one row per level): every node is in chunk 0. */
const WHOLE_LEVEL = 2 ** 30

/** A user's row as the build thread prepares it. */
export interface StoredUser {
  userKey: Uint8Array
  userIdEnc: Uint8Array
  saltEnc: Uint8Array
  leafIndex: number
}

/** Snapshots, their trees and their (encrypted) users in SQL. */
export class SnapshotStore {
  constructor(
    private readonly sql: Sql,
    private readonly key: AtRestKey,
  ) {}

  /** Records a snapshot being built (`chain`: built incrementally from `base`, as version `place.version` of its chain). */
  async create(
    s: { id: string; hash: string; currencies: Currency[]; minDepth: number; userCount: number },
    tx?: Sql,
    chain?: { base: string; place: ChainPlace },
  ) {
    await (tx ?? this.sql).query(
      `INSERT INTO reserves_snapshots (id, status, hash, currencies, min_depth, user_count, base_id, lineage, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        s.id,
        'building',
        s.hash,
        JSON.stringify(s.currencies),
        s.minDepth,
        s.userCount,
        chain?.base ?? null,
        chain?.place.lineage ?? s.id,
        chain?.place.version ?? 0,
      ],
    )
  }

  /** A snapshot's place in its chain (chain.ts). */
  async place(id: string): Promise<ChainPlace> {
    const rows = await this.sql.query('SELECT id, lineage, version FROM reserves_snapshots WHERE id = $1', [id])
    if (!rows[0]) throw notFound(id)
    return placeOf(rows[0])
  }

  /**
   * Inserts one batch of users (rows made by the build thread: lookup key, sealed id and salt, leaf
   * index) in one short statement. Users go in batches with the event loop free between them, so
   * requests (and on PGlite, whose one connection a transaction holds, every other query) run in
   * between; the snapshot stays `building` until {@link markBuilt}. A failed or killed attempt's
   * rows are removed by {@link removeRows} before the next attempt.
   */
  async insertUsers(id: string, rows: readonly StoredUser[], addedIn = 0): Promise<void> {
    if (rows.length === 0) return
    const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64')
    // one array per column, bytes as base64: PGlite parses that several times faster than bytea parameters
    await this.sql.query(
      `INSERT INTO reserves_users (snapshot_id, user_key, key_id, user_id_enc, salt_enc, leaf_index, added_in)
       SELECT $1, decode(k, 'base64'), $2, decode(i, 'base64'), decode(s, 'base64'), l, $7
         FROM unnest($3::text[], $4::text[], $5::text[], $6::int[]) AS t(k, i, s, l)`,
      [
        id,
        this.key.id,
        rows.map((u) => b64(u.userKey)),
        rows.map((u) => b64(u.userIdEnc)),
        rows.map((u) => b64(u.saltEnc)),
        rows.map((u) => u.leafIndex),
        addedIn,
      ],
    )
  }

  /** Stores nodes `chunk·LEVEL_CHUNK …` of one level (hashes and sums). */
  async insertLevelChunk(id: string, level: number, chunk: number, hashes: Uint8Array, balances: Uint8Array) {
    const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64')
    await this.sql.query(
      `INSERT INTO reserves_levels (snapshot_id, level, chunk, hashes, balances) VALUES ($1, $2, $3, decode($4, 'base64'), decode($5, 'base64'))`,
      [id, level, chunk, b64(hashes), b64(balances)],
    )
  }

  /** Marks the snapshot built with its root, in `tx` (after its users and level chunks). */
  async markBuilt(
    id: string,
    b: { depth: number; rootHash: string; totals: string[]; users: number; levelChunk?: number },
    tx: Sql,
  ): Promise<void> {
    await tx.query(
      `UPDATE reserves_snapshots SET status = 'built', depth = $2, root_hash = $3, totals = $4, level_chunk = $5, user_count = $6, built_at = now(), error = NULL WHERE id = $1`,
      [id, b.depth, b.rootHash, JSON.stringify(b.totals), b.levelChunk ?? LEVEL_CHUNK, b.users],
    )
  }

  /**
   * Removes a snapshot's users and levels (an interrupted or failed attempt's), a few thousand
   * rows per statement with the event loop free between them (one DELETE of a million rows holds
   * PGlite's one connection for seconds).
   */
  async removeRows(id: string): Promise<number> {
    const rows = await this.sql.query('SELECT id, lineage, version FROM reserves_snapshots WHERE id = $1', [id])
    const place = rows[0] ? placeOf(rows[0]) : { lineage: id, version: 0 }
    if (place.version > 0) return undoVersion(this.sql, id, place)
    await this.sql.query('DELETE FROM reserves_occupancy WHERE snapshot_id = $1', [id])
    return this.removeChainRows(id)
  }

  /**
   * Retention's removal: a chain's rows serve all its snapshots, so they go with the last of them
   * still served (building or built); until then only this snapshot's leaf map goes.
   */
  async retireRows(id: string): Promise<number> {
    const place = await this.place(id)
    if (await chainInUse(this.sql, id, place.lineage)) {
      await this.sql.query('DELETE FROM reserves_occupancy WHERE snapshot_id = $1', [id])
      return 0
    }
    await this.sql.query(
      'DELETE FROM reserves_occupancy WHERE snapshot_id IN (SELECT id FROM reserves_snapshots WHERE COALESCE(lineage, id) = $1)',
      [place.lineage],
    )
    const n = (await this.sql.query('DELETE FROM reserves_nodes WHERE lineage = $1 RETURNING 1 AS x', [place.lineage]))
      .length
    return n + (await this.removeChainRows(place.lineage))
  }

  /** Every user row and level chunk stored under `lineage` (a chain head's id). */
  private async removeChainRows(id: string): Promise<number> {
    let removed = 0
    for (;;) {
      const r = await this.sql.query(
        'DELETE FROM reserves_users WHERE ctid IN (SELECT ctid FROM reserves_users WHERE snapshot_id = $1 LIMIT 1000) RETURNING 1 AS x',
        [id],
      )
      removed += r.length
      if (r.length < 1000) break
      await new Promise((res) => setImmediate(res))
    }
    removed += (await this.sql.query('DELETE FROM reserves_levels WHERE snapshot_id = $1 RETURNING 1 AS x', [id]))
      .length
    return removed
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.removeRows(id)
    await this.setFailed(id, error)
  }

  /** Only the status (rows removed separately, before or after), in `tx` when given. */
  async setFailed(id: string, error: string, tx?: Sql): Promise<void> {
    await (tx ?? this.sql).query(`UPDATE reserves_snapshots SET status = 'failed', error = $2 WHERE id = $1`, [
      id,
      error,
    ])
  }

  /** The snapshot, or null when there is none with this id. */
  async find(id: string): Promise<SnapshotInfo | null> {
    const rows = await this.sql.query('SELECT * FROM reserves_snapshots WHERE id = $1', [id])
    return rows[0] ? info(rows[0]) : null
  }

  /** Deletes a snapshot and everything it owns (a failed one before its id is uploaded again). */
  async remove(id: string, tx?: Sql): Promise<void> {
    await this.removeRows(id)
    await (tx ?? this.sql).query('DELETE FROM reserves_snapshots WHERE id = $1', [id])
  }

  /** Whether `userId` is in the snapshot (one indexed lookup; for "your proof is available"). */
  async hasUser(id: string, userId: string): Promise<boolean> {
    const p = await this.place(id)
    const r = await this.sql.query(
      `SELECT 1 AS x FROM reserves_users u WHERE u.snapshot_id = $1 AND u.user_key = $2 AND ${inVersion('u', '$3')}`,
      [p.lineage, userKey(this.key, p.lineage, userId), p.version],
    )
    return r.length > 0
  }

  /** How many users the snapshot holds now (erased ones no longer counted). */
  async userCount(id: string): Promise<number> {
    const p = await this.place(id)
    const r = await this.sql.query(
      `SELECT count(*)::int AS n FROM reserves_users u WHERE u.snapshot_id = $1 AND ${inVersion('u', '$2')}`,
      [p.lineage, p.version],
    )
    return Number(r[0]?.n ?? 0)
  }

  /** The id of the snapshot's `at`-th user in leaf order (report sampling), or null past the last. */
  async userIdAt(id: string, at: number): Promise<string | null> {
    const p = await this.place(id)
    const r = await this.sql.query(
      `SELECT u.user_id_enc FROM reserves_users u WHERE u.snapshot_id = $1 AND ${inVersion('u', '$2')}
        ORDER BY u.leaf_index OFFSET $3 LIMIT 1`,
      [p.lineage, p.version, at],
    )
    return r[0] ? new TextDecoder().decode(open(this.key, r[0].user_id_enc as Uint8Array, p.lineage)) : null
  }

  async setAnchor(id: string, anchor: Record<string, unknown>, tx?: Sql): Promise<void> {
    await (tx ?? this.sql).query('UPDATE reserves_snapshots SET anchor = $2 WHERE id = $1', [
      id,
      JSON.stringify(anchor),
    ])
  }

  async get(id: string): Promise<SnapshotInfo> {
    const rows = await this.sql.query('SELECT * FROM reserves_snapshots WHERE id = $1', [id])
    if (!rows[0]) throw notFound(id)
    return info(rows[0])
  }

  /** Newest first, `limit` at a time; `cursor` is the `seq` of the last one seen. */
  async list(cursor: number | null, limit: number): Promise<{ items: SnapshotInfo[]; next: string | null }> {
    const rows = await this.sql.query(
      'SELECT * FROM reserves_snapshots WHERE ($1::bigint IS NULL OR seq < $1::bigint) ORDER BY seq DESC LIMIT $2',
      [cursor, limit + 1],
    )
    const more = rows.length > limit
    const page = rows.slice(0, limit)
    return { items: page.map(info), next: more ? String(page[page.length - 1]!.seq) : null }
  }

  private async built(id: string): Promise<SnapshotInfo & { levelChunk: number; place: ChainPlace }> {
    const rows = await this.sql.query('SELECT * FROM reserves_snapshots WHERE id = $1', [id])
    if (!rows[0]) throw notFound(id)
    const s = { ...info(rows[0]), levelChunk: chunkOf(rows[0]), place: placeOf(rows[0]) }
    if (s.status !== 'built')
      throw new CairnError(ReservesErrorCode.SNAPSHOT_NOT_READY, `snapshot ${id} is ${s.status}`, {
        fault: s.status === 'building' ? 'transient' : 'caller',
        hint: s.status === 'building' ? 'retry when GET /v1/snapshots/:id says built' : (s.error ?? undefined),
      })
    return s
  }

  /** One user's proof, read from the stored levels (only the siblings are fetched). */
  async proof(id: string, userId: string): Promise<ProofV1> {
    const s = await this.built(id)
    const { lineage, version } = s.place
    const rows = await this.sql.query(
      `SELECT u.salt_enc, u.leaf_index FROM reserves_users u WHERE u.snapshot_id = $1 AND u.user_key = $2 AND ${inVersion('u', '$3')}`,
      [lineage, userKey(this.key, lineage, userId), version],
    )
    const u = rows[0]
    if (!u)
      throw new CairnError(ReservesErrorCode.USER_UNKNOWN, `user ${userId} is not in snapshot ${id}`, {
        fault: 'caller',
      })
    const leafIndex = Number(u.leaf_index)
    const k = s.currencies.length
    const w = k * U128_BYTES
    const depth = s.depth as number
    // the user's own leaf, then the sibling of the running node at each level: one query for all
    const levels = [0]
    const indexes = [leafIndex]
    for (let l = 0; l < depth; l++) {
      levels.push(l)
      indexes.push(Math.floor(leafIndex / 2 ** l) ^ 1)
    }
    const read = await readNodes(this.sql, s.place, s.levelChunk, w, levels, indexes)
    if (read.count !== levels.length)
      throw new CairnError(ReservesErrorCode.TREE_CORRUPT, `snapshot ${id} is missing tree levels`, {
        fault: 'internal',
      })
    const nodes = levels.map((_, j) => ({
      hash: toHex(read.hashes.subarray(j * 32, j * 32 + 32)),
      balances: decodeBalances(read.balances.subarray(j * w, j * w + w)).map(String),
    }))
    const own = nodes[0]!
    return {
      version: 1,
      hash: s.hash,
      snapshotId: id,
      currencies: s.currencies,
      userId,
      salt: toHex(open(this.key, u.salt_enc as Uint8Array, lineage)),
      balances: Object.fromEntries(s.currencies.map((c, j) => [c.symbol, own.balances[j] as string])),
      leafIndex,
      path: nodes.slice(1),
      root: s.root as ProofNode,
    }
  }

  /** Leaves `offset … offset+limit−1`: index, hash and balances, never a user id. */
  async leaves(
    id: string,
    offset: number,
    limit: number,
  ): Promise<{ total: number; leaves: (ProofNode & { index: number })[] }> {
    const s = await this.built(id)
    const total = 2 ** (s.depth as number)
    const n = Math.max(0, Math.min(limit, total - offset))
    const w = s.currencies.length * U128_BYTES
    if (n === 0) return { total, leaves: [] }
    // the chunks holding offset … offset+n−1, each sliced to its part of the range, in order
    const c = s.levelChunk
    const r = await this.sql.query(
      `SELECT substring(hashes FROM ((GREATEST($2::bigint, chunk::bigint * $4) - chunk::bigint * $4) * 32 + 1)::int
                         FOR ((LEAST($3::bigint, (chunk::bigint + 1) * $4) - GREATEST($2::bigint, chunk::bigint * $4)) * 32)::int) AS h,
              substring(balances FROM ((GREATEST($2::bigint, chunk::bigint * $4) - chunk::bigint * $4) * $5 + 1)::int
                         FOR ((LEAST($3::bigint, (chunk::bigint + 1) * $4) - GREATEST($2::bigint, chunk::bigint * $4)) * $5)::int) AS b
         FROM reserves_levels WHERE snapshot_id = $1 AND level = 0 AND chunk BETWEEN $2::bigint / $4 AND ($3::bigint - 1) / $4
        ORDER BY chunk`,
      [s.place.lineage, offset, offset + n, c, w],
    )
    const h = Buffer.concat(r.map((x) => x.h as Uint8Array))
    const b = Buffer.concat(r.map((x) => x.b as Uint8Array))
    // an incremental snapshot: its chain's changed leaves over the head's
    for (const x of await changedLeaves(this.sql, s.place, offset, offset + n)) {
      h.set(x.hash, (x.idx - offset) * 32)
      b.set(x.balances, (x.idx - offset) * w)
    }
    const leaves = Array.from({ length: n }, (_, i) => ({
      index: offset + i,
      hash: toHex(h.subarray(i * 32, i * 32 + 32)),
      balances: decodeBalances(b.subarray(i * w, (i + 1) * w)).map(String),
    }))
    return { total, leaves }
  }

  /** Decrypts every user id of a snapshot (used by tests and key rotation). */
  async userIds(id: string): Promise<string[]> {
    const p = await this.place(id)
    const rows = await this.sql.query(
      `SELECT u.user_id_enc FROM reserves_users u WHERE u.snapshot_id = $1 AND ${inVersion('u', '$2')}`,
      [p.lineage, p.version],
    )
    return rows.map((r) => new TextDecoder().decode(open(this.key, r.user_id_enc as Uint8Array, p.lineage)))
  }
}
