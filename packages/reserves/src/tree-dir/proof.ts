import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import { levelOffsets } from '../tree/job.ts'
import { toHex } from '../verifier/hex.ts'
import type { ProofNode, ProofV1 } from '../verifier/proof.ts'
import { decodeBalances, U128_BYTES } from '../verifier/u128.ts'
import type { SnapshotFile } from './format.ts'

const corrupt = (dir: string, what: string) =>
  new CairnError(ReservesErrorCode.TREE_CORRUPT, `${dir} is not a reserves tree directory: ${what}`, {
    fault: 'caller',
    hint: 'point --tree at the --out directory of cairn reserves build',
  })

function readAt(fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let done = 0
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done)
    if (n === 0) throw new RangeError('tree.bin is shorter than its levels')
    done += n
  }
  return out
}

/** The users.ndjson line of `userId`, found by scanning for its exact JSON prefix. */
function findUserLine(path: string, userId: string): string | null {
  const needle = Buffer.from(`{"userId":${JSON.stringify(userId)},`)
  const fd = openSync(path, 'r')
  try {
    const step = 1 << 22
    let buf = Buffer.alloc(0)
    let pos = 0
    for (;;) {
      const chunk = Buffer.alloc(step)
      const n = readSync(fd, chunk, 0, step, pos)
      pos += n
      buf = Buffer.concat([buf, chunk.subarray(0, n)])
      let at = buf.indexOf(needle)
      while (at > 0 && buf[at - 1] !== 10) at = buf.indexOf(needle, at + 1)
      if (at >= 0) {
        let end = buf.indexOf(10, at)
        while (end < 0 && n > 0) {
          const more = Buffer.alloc(step)
          const m = readSync(fd, more, 0, step, pos)
          if (m === 0) break
          pos += m
          buf = Buffer.concat([buf, more.subarray(0, m)])
          end = buf.indexOf(10, at)
        }
        return buf.toString('utf8', at, end < 0 ? buf.length : end)
      }
      if (n === 0) return null
      // Keep the tail that may hold the start of a match.
      const keep = buf.lastIndexOf(10)
      buf = keep < 0 ? buf : Buffer.from(buf.subarray(keep))
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * One user's proof (format v1) read from a tree directory without loading it: the user's line of
 * users.ndjson and the `depth` siblings read at their place in tree.bin. For trees too large to
 * read whole (tree.bin of 10M users is 2.7 GB); same proof as `proofFor(readTreeDir(dir).tree)`.
 */
export function proofFromTreeDir(dir: string, userId: string): ProofV1 {
  let meta: SnapshotFile
  try {
    meta = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')) as SnapshotFile
  } catch (err) {
    throw corrupt(dir, (err as Error).message)
  }
  let user: { userId: string; salt: string; leafIndex: number; balances: string[] } | null
  try {
    const line = findUserLine(join(dir, 'users.ndjson'), userId)
    user = line === null ? null : JSON.parse(line)
  } catch (err) {
    throw corrupt(dir, (err as Error).message)
  }
  if (!user || user.userId !== userId)
    throw new CairnError(ReservesErrorCode.USER_UNKNOWN, `user ${userId} is not in snapshot ${meta.snapshotId}`, {
      fault: 'caller',
    })
  const k = meta.currencies.length
  const w = k * U128_BYTES
  const offsets = levelOffsets(meta.depth, k)
  const path: ProofNode[] = []
  let root: ProofNode
  const fd = openSync(join(dir, 'tree.bin'), 'r')
  try {
    const node = (l: number, i: number): ProofNode => {
      const at = offsets[l] as number
      return {
        hash: toHex(readAt(fd, at + i * 32, 32)),
        balances: decodeBalances(readAt(fd, at + 2 ** (meta.depth - l) * 32 + i * w, w)).map(String),
      }
    }
    let idx = user.leafIndex
    for (let l = 0; l < meta.depth; l++) {
      path.push(node(l, idx ^ 1))
      idx = Math.floor(idx / 2)
    }
    root = node(meta.depth, 0)
  } catch (err) {
    throw corrupt(dir, (err as Error).message)
  } finally {
    closeSync(fd)
  }
  if (root.hash !== meta.root.hash) throw corrupt(dir, 'tree.bin does not match the root in snapshot.json')
  return {
    version: 1,
    hash: meta.hash,
    snapshotId: meta.snapshotId,
    currencies: meta.currencies.map((c) => ({ symbol: c.symbol, decimals: c.decimals })),
    userId,
    salt: user.salt,
    balances: Object.fromEntries(meta.currencies.map((c, j) => [c.symbol, String(user.balances[j])])),
    leafIndex: user.leafIndex,
    path,
    root,
  }
}
