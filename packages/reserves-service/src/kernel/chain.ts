// Incremental snapshots share their rows with the snapshot they were built from (docs/reserves/incremental.md).
//
// A full build heads a chain (`lineage` = its own id, `version` 0) and owns its rows as before:
// users (keyed, sealed and bound to the lineage id), level chunks, and its leaf map. An incremental
// build is version base.version + 1 of the same lineage and writes only what changed:
// - `reserves_users` rows of its new users (`added_in` = its version); its removed users' rows get
//   `removed_in` = its version. A user is in version v when added_in ≤ v < removed_in.
// - `reserves_nodes`: every tree node whose value changed, tagged with its version. A node of
//   version v is the newest of its row with version ≤ v, else the lineage head's level chunk.
// - its own leaf map (`reserves_occupancy`: which leaves hold a user), for the next build.
// A chain only grows at its tip (one snapshot per version, enforced by a unique index), so a
// version's rows can be taken back (a failed attempt) without touching any other.
import type { Level } from '@cairn/reserves'
import type { Row, Sql } from './sql.ts'

/** Where a snapshot sits: its chain's head id and its place in it. */
export interface ChainPlace {
  lineage: string
  version: number
}

/** The chain place of a snapshot row (rows from before chains: their own head, version 0). */
export const placeOf = (r: Row): ChainPlace => ({
  lineage: (r.lineage as string | null) ?? (r.id as string),
  version: Number(r.version ?? 0),
})

/** SQL: user row `u` is in version `$v` (a parameter number). */
export const inVersion = (u: string, v: string) =>
  `${u}.added_in <= ${v} AND (${u}.removed_in IS NULL OR ${u}.removed_in > ${v})`

const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64')

/** Nodes per INSERT of changed nodes (~330 KB of base64 for 3 currencies). */
export const NODE_BATCH = 4096

/** Stores changed nodes of one level (indexes ascending; hashes 32 bytes, sums `w` bytes each). */
export async function insertNodes(
  sql: Sql,
  p: ChainPlace,
  level: number,
  indexes: Int32Array,
  hashes: Uint8Array,
  balances: Uint8Array,
): Promise<void> {
  if (indexes.length === 0) return
  const w = balances.length / indexes.length
  const hs: string[] = []
  const bs: string[] = []
  for (let j = 0; j < indexes.length; j++) {
    hs.push(b64(hashes.subarray(j * 32, j * 32 + 32)))
    bs.push(b64(balances.subarray(j * w, j * w + w)))
  }
  await sql.query(
    `INSERT INTO reserves_nodes (lineage, version, level, idx, hash, balances)
     SELECT $1, $2, $3, i, decode(h, 'base64'), decode(b, 'base64') FROM unnest($4::int[], $5::text[], $6::text[]) AS t(i, h, b)`,
    [p.lineage, p.version, level, [...indexes], hs, bs],
  )
}

/**
 * Nodes (levels[j], indexes[j]) of version `p.version`: a changed node's newest value, else the
 * head's level chunk. `w` = bytes of sums per node; `chunk` = nodes per stored level chunk.
 */
export async function readNodes(
  sql: Sql,
  p: ChainPlace,
  chunk: number,
  w: number,
  levels: readonly number[],
  indexes: readonly number[],
): Promise<Level & { count: number }> {
  const rows =
    p.version === 0
      ? await sql.query(
          `SELECT substring(l.hashes FROM (x.i % $5) * 32 + 1 FOR 32) AS h, substring(l.balances FROM (x.i % $5) * $4 + 1 FOR $4) AS b
             FROM unnest($2::int[], $3::int[]) WITH ORDINALITY AS x(lvl, i, ord)
             JOIN reserves_levels l ON l.snapshot_id = $1 AND l.level = x.lvl AND l.chunk = x.i / $5
            ORDER BY x.ord`,
          [p.lineage, [...levels], [...indexes], w, chunk],
        )
      : await sql.query(
          `SELECT COALESCE(n.hash, substring(l.hashes FROM (x.i % $5) * 32 + 1 FOR 32)) AS h,
                  COALESCE(n.balances, substring(l.balances FROM (x.i % $5) * $4 + 1 FOR $4)) AS b
             FROM unnest($2::int[], $3::int[]) WITH ORDINALITY AS x(lvl, i, ord)
             JOIN reserves_levels l ON l.snapshot_id = $1 AND l.level = x.lvl AND l.chunk = x.i / $5
             LEFT JOIN LATERAL (SELECT hash, balances FROM reserves_nodes
                                 WHERE lineage = $1 AND level = x.lvl AND idx = x.i AND version <= $6
                                 ORDER BY version DESC LIMIT 1) n ON true
            ORDER BY x.ord`,
          [p.lineage, [...levels], [...indexes], w, chunk, p.version],
        )
  const hashes = new Uint8Array(rows.length * 32)
  const balances = new Uint8Array(rows.length * w)
  rows.forEach((r, j) => {
    hashes.set(r.h as Uint8Array, j * 32)
    balances.set(r.b as Uint8Array, j * w)
  })
  return { count: rows.length, hashes, balances }
}

/** Changed nodes of versions 1 … `p.version` among leaves `from … to−1`, newest per index. */
export async function changedLeaves(
  sql: Sql,
  p: ChainPlace,
  from: number,
  to: number,
): Promise<{ idx: number; hash: Uint8Array; balances: Uint8Array }[]> {
  if (p.version === 0) return []
  const rows = await sql.query(
    `SELECT DISTINCT ON (idx) idx, hash, balances FROM reserves_nodes
      WHERE lineage = $1 AND level = 0 AND idx >= $2 AND idx < $3 AND version <= $4
      ORDER BY idx, version DESC`,
    [p.lineage, from, to, p.version],
  )
  return rows.map((r) => ({ idx: Number(r.idx), hash: r.hash as Uint8Array, balances: r.balances as Uint8Array }))
}

/**
 * SQL: `= ANY` of the base64 keys in text[] parameter `p`, decoded once (an InitPlan). Joined
 * per key instead, a plan made on a chain's statistics from before its build (5 rows for a
 * million) re-decoded every key against every row: 6 s for 200 keys in 200,000 users.
 */
const KEYS = (p: string) => `ANY (ARRAY(SELECT decode(x, 'base64') FROM unnest(${p}::text[]) AS x))`

/** The users of the lineage in version `p.version` among `keys`: key (base64), sealed salt, leaf. */
export async function usersByKey(
  sql: Sql,
  p: ChainPlace,
  keys: readonly Uint8Array[],
): Promise<{ key: string; saltEnc: Uint8Array; leafIndex: number }[]> {
  const rows = await sql.query(
    `SELECT encode(u.user_key, 'base64') AS k, u.salt_enc, u.leaf_index FROM reserves_users u
      WHERE u.snapshot_id = $1 AND u.user_key = ${KEYS('$2')} AND ${inVersion('u', '$3')}`,
    [p.lineage, keys.map(b64), p.version],
  )
  return rows.map((r) => ({ key: r.k as string, saltEnc: r.salt_enc as Uint8Array, leafIndex: Number(r.leaf_index) }))
}

/** Marks users (by lookup key) removed in version `p.version`. */
export async function markRemoved(sql: Sql, p: ChainPlace, keys: readonly Uint8Array[]): Promise<void> {
  if (keys.length === 0) return
  await sql.query(
    `UPDATE reserves_users u SET removed_in = $3 WHERE u.snapshot_id = $1 AND u.user_key = ${KEYS('$2')} AND u.removed_in IS NULL`,
    [p.lineage, keys.map(b64), p.version],
  )
}

/**
 * Refreshes the planner's statistics of the tables a build filled (a chain's next builds look
 * users up by key among them); autovacuum would, but only later.
 */
export async function analyzeBuilt(sql: Sql): Promise<void> {
  await sql.query('ANALYZE reserves_users, reserves_nodes')
}

/** Stores a snapshot's leaf map (bit i: leaf i holds a user). */
export async function storeOccupancy(sql: Sql, id: string, bits: Uint8Array): Promise<void> {
  await sql.query(
    `INSERT INTO reserves_occupancy (snapshot_id, leaves) VALUES ($1, decode($2, 'base64'))
     ON CONFLICT (snapshot_id) DO UPDATE SET leaves = EXCLUDED.leaves`,
    [id, b64(bits)],
  )
}

/**
 * A built snapshot's leaf map: stored since chains exist; for one built before, made from its
 * user rows (one pass over them).
 */
export async function occupancy(sql: Sql, id: string, p: ChainPlace, depth: number): Promise<Uint8Array> {
  const r = await sql.query(`SELECT encode(leaves, 'base64') AS l FROM reserves_occupancy WHERE snapshot_id = $1`, [id])
  if (r[0]) return new Uint8Array(Buffer.from((r[0].l as string).replace(/\n/g, ''), 'base64'))
  const bits = new Uint8Array(Math.ceil(2 ** depth / 8))
  const rows = await sql.query(
    `SELECT u.leaf_index FROM reserves_users u WHERE u.snapshot_id = $1 AND ${inVersion('u', '$2')}`,
    [p.lineage, p.version],
  )
  for (const x of rows) {
    const i = Number(x.leaf_index)
    bits[i >>> 3] = (bits[i >>> 3] as number) | (1 << (i & 7))
  }
  return bits
}

/** Takes back what version `p.version` (≥ 1) wrote: its nodes, its new users, its removals, its leaf map. */
export async function undoVersion(sql: Sql, id: string, p: ChainPlace): Promise<number> {
  let n = 0
  n += (
    await sql.query('DELETE FROM reserves_nodes WHERE lineage = $1 AND version = $2 RETURNING 1 AS x', [
      p.lineage,
      p.version,
    ])
  ).length
  n += (
    await sql.query('DELETE FROM reserves_users WHERE snapshot_id = $1 AND added_in = $2 RETURNING 1 AS x', [
      p.lineage,
      p.version,
    ])
  ).length
  await sql.query('UPDATE reserves_users SET removed_in = NULL WHERE snapshot_id = $1 AND removed_in = $2', [
    p.lineage,
    p.version,
  ])
  await sql.query('DELETE FROM reserves_occupancy WHERE snapshot_id = $1', [id])
  return n
}

/** Whether a snapshot of the lineage other than `id` is still served (building or built). */
export async function chainInUse(sql: Sql, id: string, lineage: string): Promise<boolean> {
  const r = await sql.query(
    `SELECT 1 AS x FROM reserves_snapshots WHERE COALESCE(lineage, id) = $1 AND id <> $2 AND status IN ('building', 'built') LIMIT 1`,
    [lineage, id],
  )
  return r.length > 0
}

/** Migration 8 (listed in src/schema.ts). */
export const CHAIN_MIGRATION = {
  version: 8,
  name: 'incremental snapshots: chains sharing user rows, changed nodes, leaf maps',
  sql: `
ALTER TABLE reserves_snapshots ADD COLUMN base_id text;
ALTER TABLE reserves_snapshots ADD COLUMN lineage text;
ALTER TABLE reserves_snapshots ADD COLUMN version integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX reserves_snapshots_chain ON reserves_snapshots ((COALESCE(lineage, id)), version) WHERE status <> 'failed';
ALTER TABLE reserves_users ADD COLUMN added_in integer NOT NULL DEFAULT 0;
ALTER TABLE reserves_users ADD COLUMN removed_in integer;
ALTER TABLE reserves_users DROP CONSTRAINT reserves_users_pkey;
ALTER TABLE reserves_users ADD PRIMARY KEY (snapshot_id, user_key, added_in);
-- a version's rows found without a pass over the chain's users (taken back when its build fails)
CREATE INDEX reserves_users_added ON reserves_users (snapshot_id, added_in) WHERE added_in > 0;
CREATE INDEX reserves_users_removed ON reserves_users (snapshot_id, removed_in) WHERE removed_in IS NOT NULL;
CREATE TABLE reserves_nodes (
  lineage  text NOT NULL REFERENCES reserves_snapshots(id) ON DELETE CASCADE,
  version  integer NOT NULL,
  level    integer NOT NULL,
  idx      integer NOT NULL,
  hash     bytea NOT NULL,
  balances bytea NOT NULL,
  PRIMARY KEY (lineage, level, idx, version)
);
CREATE INDEX reserves_nodes_version ON reserves_nodes (lineage, version);
CREATE TABLE reserves_occupancy (
  snapshot_id text PRIMARY KEY REFERENCES reserves_snapshots(id) ON DELETE CASCADE,
  leaves      bytea NOT NULL
);`,
}
