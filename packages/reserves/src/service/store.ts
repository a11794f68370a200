import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import type { SumTree } from '../tree/build.ts'
import { toHex } from '../verifier/hex.ts'
import type { Currency, ProofNode, ProofV1 } from '../verifier/proof.ts'
import { decodeBalances, U128_BYTES } from '../verifier/u128.ts'
import { type AtRestKey, open, seal, userKey } from './at-rest.ts'
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
  }
}

const notFound = (id: string) =>
  new CairnError(ReservesErrorCode.SNAPSHOT_UNKNOWN, `snapshot ${id} does not exist`, { fault: 'caller' })

/** Users per INSERT statement when a snapshot is stored. */
const USER_CHUNK = 500

/** Snapshots, their trees and their (encrypted) users in SQL. */
export class SnapshotStore {
  constructor(
    private readonly sql: Sql,
    private readonly key: AtRestKey,
  ) {}

  /** Records a snapshot being built. */
  async create(s: { id: string; hash: string; currencies: Currency[]; minDepth: number; userCount: number }, tx?: Sql) {
    await (tx ?? this.sql).query(
      'INSERT INTO reserves_snapshots (id, status, hash, currencies, min_depth, user_count) VALUES ($1, $2, $3, $4, $5, $6)',
      [s.id, 'building', s.hash, JSON.stringify(s.currencies), s.minDepth, s.userCount],
    )
  }

  /**
   * Stores a built tree's users in chunks of {@link USER_CHUNK}, each its own short statement,
   * yielding the event loop between them: requests (and on PGlite, whose one connection a
   * transaction holds, every other query) run between chunks instead of waiting for a million
   * rows. The snapshot stays `building` until {@link saveBuilt}; a failure leaves rows that
   * {@link markFailed} removes.
   */
  async saveUsers(id: string, tree: SumTree): Promise<void> {
    const enc = new TextEncoder()
    for (let i = 0; i < tree.users.length; i += USER_CHUNK) {
      const chunk = tree.users.slice(i, i + USER_CHUNK)
      const params: unknown[] = []
      const values = chunk.map((u, j) => {
        params.push(
          id,
          userKey(this.key, id, u.userId),
          this.key.id,
          seal(this.key, enc.encode(u.userId), id),
          seal(this.key, u.salt, id),
          u.leafIndex,
        )
        const b = j * 6
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`
      })
      await this.sql.query(
        `INSERT INTO reserves_users (snapshot_id, user_key, key_id, user_id_enc, salt_enc, leaf_index) VALUES ${values.join(', ')}`,
        params,
      )
      await new Promise((r) => setImmediate(r))
    }
  }

  /** Stores the tree's levels and marks the snapshot built, in `tx` (after {@link saveUsers}). */
  async saveBuilt(id: string, tree: SumTree, tx: Sql): Promise<void> {
    for (const [level, l] of tree.levels.entries())
      await tx.query('INSERT INTO reserves_levels (snapshot_id, level, hashes, balances) VALUES ($1, $2, $3, $4)', [
        id,
        level,
        l.hashes,
        l.balances,
      ])
    const root = tree.levels[tree.depth]!
    await tx.query(
      `UPDATE reserves_snapshots SET status = 'built', depth = $2, root_hash = $3, totals = $4, built_at = now() WHERE id = $1`,
      [id, tree.depth, toHex(root.hashes), JSON.stringify(decodeBalances(root.balances).map(String))],
    )
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.sql.query('DELETE FROM reserves_users WHERE snapshot_id = $1', [id])
    await this.sql.query('DELETE FROM reserves_levels WHERE snapshot_id = $1', [id])
    await this.sql.query(`UPDATE reserves_snapshots SET status = 'failed', error = $2 WHERE id = $1`, [id, error])
  }

  async setAnchor(id: string, anchor: Record<string, unknown>): Promise<void> {
    await this.sql.query('UPDATE reserves_snapshots SET anchor = $2 WHERE id = $1', [id, JSON.stringify(anchor)])
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

  private async built(id: string): Promise<SnapshotInfo> {
    const s = await this.get(id)
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
    const rows = await this.sql.query(
      'SELECT salt_enc, leaf_index FROM reserves_users WHERE snapshot_id = $1 AND user_key = $2',
      [id, userKey(this.key, id, userId)],
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
    const rows2 = await this.sql.query(
      `SELECT substring(l.hashes FROM w.i * 32 + 1 FOR 32) AS h, substring(l.balances FROM w.i * $4 + 1 FOR $4) AS b
         FROM unnest($2::int[], $3::int[]) WITH ORDINALITY AS w(lvl, i, ord)
         JOIN reserves_levels l ON l.snapshot_id = $1 AND l.level = w.lvl
        ORDER BY w.ord`,
      [id, levels, indexes, w],
    )
    if (rows2.length !== levels.length)
      throw new CairnError(ReservesErrorCode.TREE_CORRUPT, `snapshot ${id} is missing tree levels`, {
        fault: 'internal',
      })
    const nodes = rows2.map((r) => ({
      hash: toHex(r.h as Uint8Array),
      balances: decodeBalances(r.b as Uint8Array).map(String),
    }))
    const own = nodes[0]!
    return {
      version: 1,
      hash: s.hash,
      snapshotId: id,
      currencies: s.currencies,
      userId,
      salt: toHex(open(this.key, u.salt_enc as Uint8Array, id)),
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
    const r = await this.sql.query(
      'SELECT substring(hashes FROM $2 FOR $3) AS h, substring(balances FROM $4 FOR $5) AS b FROM reserves_levels WHERE snapshot_id = $1 AND level = 0',
      [id, offset * 32 + 1, n * 32, offset * w + 1, n * w],
    )
    const h = r[0]!.h as Uint8Array
    const b = r[0]!.b as Uint8Array
    const leaves = Array.from({ length: n }, (_, i) => ({
      index: offset + i,
      hash: toHex(h.subarray(i * 32, i * 32 + 32)),
      balances: decodeBalances(b.subarray(i * w, (i + 1) * w)).map(String),
    }))
    return { total, leaves }
  }

  /** Decrypts every user id of a snapshot (used by tests and key rotation). */
  async userIds(id: string): Promise<string[]> {
    const rows = await this.sql.query('SELECT user_id_enc FROM reserves_users WHERE snapshot_id = $1', [id])
    return rows.map((r) => new TextDecoder().decode(open(this.key, r.user_id_enc as Uint8Array, id)))
  }
}
