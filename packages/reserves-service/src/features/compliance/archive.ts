// What the retention job writes before it removes a snapshot's tree: the public evidence only.
// `<dir>/snapshots/<id>.leaves.jsonl` holds every leaf of level 0 (index, hash, sums; padding
// included), from which the whole tree and its root can be recomputed; `<id>.manifest.json` holds
// the snapshot's metadata (root, totals, anchor, reconciliations) and the leaves file's SHA-256.
// No user id, salt or lookup key is archived: the leaves cannot be tied to users (erasure never
// has to reach an archive), and no proof can be issued from it — only the root re-checked.
// Pruned audit entries go to `<dir>/audit/audit-<from>-<through>.jsonl`.
import { createHash } from 'node:crypto'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ReservesErrorCode } from '@cairn/reserves'
import type { HashFn } from '@cairn/reserves/verifier'
import { addBalancesInto, encodeBalances, fromHex, nodeHash, portableHash, toHex } from '@cairn/reserves/verifier'
import { CairnError } from '@cairn/utils'
import type { SnapshotInfo, SnapshotStore } from '../../kernel/store.ts'

/** Leaves read per page. */
const PAGE = 10_000

/** The manifest of an archived snapshot. */
export interface SnapshotManifest {
  kind: 'cairn-reserves-snapshot-archive'
  version: 1
  archivedAt: string
  snapshot: SnapshotInfo
  reconciliations: unknown[]
  leaves: { file: string; count: number; sha256: string }
  /** The root recomputed from the archived leaves before the tree was removed. */
  recomputedRoot: string
}

/** Writes a file whole or not at all (temp name, then rename). */
async function writeAtomic(path: string, data: string): Promise<void> {
  await writeFile(`${path}.tmp`, data, { mode: 0o640 })
  await rename(`${path}.tmp`, path)
}

/** Folds level-0 leaves (hash, sums) up to the root hash. */
export function foldLeaves(h: HashFn, leaves: { hash: Uint8Array; balances: Uint8Array }[]): string {
  let level = leaves
  while (level.length > 1) {
    const next: typeof level = []
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i]!
      const r = level[i + 1]!
      const sum = new Uint8Array(l.balances.length)
      addBalancesInto(l.balances, r.balances, sum)
      next.push({ hash: nodeHash(h, l.hash, l.balances, r.hash, r.balances), balances: sum })
    }
    level = next
  }
  return toHex(level[0]!.hash)
}

/**
 * Archives a built snapshot's leaves and manifest under `dir`; throws (and writes no manifest)
 * when the leaves do not fold to the stored root. Returns the manifest's path relative to `dir`.
 */
export async function archiveSnapshot(
  dir: string,
  store: SnapshotStore,
  s: SnapshotInfo,
  reconciliations: unknown[],
  archivedAt: string,
): Promise<{ manifest: string; leavesSha256: string }> {
  const sub = join(dir, 'snapshots')
  await mkdir(sub, { recursive: true })
  const lines: string[] = []
  const folded: { hash: Uint8Array; balances: Uint8Array }[] = []
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.leaves(s.id, offset, PAGE)
    for (const l of page.leaves) {
      lines.push(`${JSON.stringify(l)}\n`)
      folded.push({ hash: fromHex(l.hash, 32) as Uint8Array, balances: encodeBalances(l.balances.map(BigInt)) })
    }
    if (offset + PAGE >= page.total) break
  }
  const root = foldLeaves(portableHash(s.hash), folded)
  if (!s.root || root !== s.root.hash.toLowerCase())
    throw new CairnError(
      ReservesErrorCode.TREE_CORRUPT,
      `snapshot ${s.id}: its leaves fold to ${root}, not the stored root ${s.root?.hash}; it is not archived`,
      { fault: 'internal', hint: 'the stored tree is damaged: keep the snapshot and look into the database' },
    )
  const text = lines.join('')
  const sha256 = createHash('sha256').update(text).digest('hex')
  const leavesFile = `${s.id}.leaves.jsonl`
  await writeAtomic(join(sub, leavesFile), text)
  const manifest: SnapshotManifest = {
    kind: 'cairn-reserves-snapshot-archive',
    version: 1,
    archivedAt,
    snapshot: s,
    reconciliations,
    leaves: { file: leavesFile, count: lines.length, sha256 },
    recomputedRoot: root,
  }
  const name = `${s.id}.manifest.json`
  await writeAtomic(join(sub, name), `${JSON.stringify(manifest, null, 2)}\n`)
  return { manifest: `snapshots/${name}`, leavesSha256: sha256 }
}

/** Writes pruned audit entries; returns the file's path relative to `dir`. */
export async function archiveAudit(dir: string, first: number, last: number, jsonl: string): Promise<string> {
  const sub = join(dir, 'audit')
  await mkdir(sub, { recursive: true })
  const name = `audit-${first}-${last}.jsonl`
  await writeAtomic(join(sub, name), jsonl)
  return `audit/${name}`
}
