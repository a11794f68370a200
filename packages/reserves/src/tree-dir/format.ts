import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import type { SumTree, TreeLevel, TreeUser } from '../tree/build.ts'
import { rootOf } from '../tree/proof.ts'
import { fromHex, toHex } from '../verifier/hex.ts'
import type { Currency, ProofNode } from '../verifier/proof.ts'
import { U128_BYTES } from '../verifier/u128.ts'

/** `snapshot.json` of a tree directory: what may be published. */
export interface SnapshotFile {
  version: 1
  snapshotId: string
  hash: 'sha256' | 'keccak256'
  currencies: Currency[]
  depth: number
  userCount: number
  root: ProofNode
  createdAt: string
}

/**
 * Writes a built tree as a directory: `snapshot.json` (public: root, totals, depth), `tree.bin`
 * (every level's hashes then sums, leaves first) and `users.ndjson` (SECRET: ids, salts, leaf
 * indexes and balances; mode 0600).
 */
export function writeTreeDir(dir: string, snapshotId: string, tree: SumTree): SnapshotFile {
  mkdirSync(dir, { recursive: true })
  const meta: SnapshotFile = {
    version: 1,
    snapshotId,
    hash: tree.hash,
    currencies: tree.currencies,
    depth: tree.depth,
    userCount: tree.users.length,
    root: rootOf(tree),
    createdAt: new Date().toISOString(),
  }
  const parts: Uint8Array[] = []
  for (const l of tree.levels) parts.push(l.hashes, l.balances)
  writeFileSync(join(dir, 'tree.bin'), Buffer.concat(parts))
  const lines = tree.users.map((u) =>
    JSON.stringify({ userId: u.userId, salt: toHex(u.salt), leafIndex: u.leafIndex, balances: u.balances.map(String) }),
  )
  writeFileSync(join(dir, 'users.ndjson'), `${lines.join('\n')}\n`, { mode: 0o600 })
  writeFileSync(join(dir, 'snapshot.json'), `${JSON.stringify(meta, null, 2)}\n`)
  return meta
}

const corrupt = (dir: string, what: string) =>
  new CairnError(ReservesErrorCode.TREE_CORRUPT, `${dir} is not a reserves tree directory: ${what}`, {
    fault: 'caller',
    hint: 'point --tree at the --out directory of cairn reserves build',
  })

/** Reads a tree directory back (its root must match snapshot.json). */
export function readTreeDir(dir: string): { meta: SnapshotFile; tree: SumTree } {
  let meta: SnapshotFile
  let bin: Buffer
  let users: TreeUser[]
  try {
    meta = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')) as SnapshotFile
    bin = readFileSync(join(dir, 'tree.bin'))
    users = readFileSync(join(dir, 'users.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => {
        const u = JSON.parse(l) as { userId: string; salt: string; leafIndex: number; balances: string[] }
        return {
          userId: u.userId,
          salt: fromHex(u.salt, 32) as Uint8Array,
          leafIndex: u.leafIndex,
          balances: u.balances.map(BigInt),
        }
      })
  } catch (err) {
    throw corrupt(dir, (err as Error).message)
  }
  const w = meta.currencies.length * U128_BYTES
  const levels: TreeLevel[] = []
  let o = 0
  for (let l = 0; l <= meta.depth; l++) {
    const count = 2 ** (meta.depth - l)
    const hashes = new Uint8Array(bin.buffer, bin.byteOffset + o, count * 32)
    o += count * 32
    const balances = new Uint8Array(bin.buffer, bin.byteOffset + o, count * w)
    o += count * w
    levels.push({ count, hashes, balances })
  }
  if (o !== bin.length) throw corrupt(dir, 'tree.bin has the wrong size')
  const tree: SumTree = {
    hash: meta.hash,
    currencies: meta.currencies,
    depth: meta.depth,
    levels,
    users,
    byId: new Map(users.map((u, i) => [u.userId, i])),
  }
  if (rootOf(tree).hash !== meta.root.hash) throw corrupt(dir, 'tree.bin does not match the root in snapshot.json')
  return { meta, tree }
}
