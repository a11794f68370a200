import { closeSync, openSync, writeSync } from 'node:fs'
import type { HashName } from '../verifier/hash.ts'
import { U128_BYTES } from '../verifier/u128.ts'
import type { UserColumns } from './columns.ts'
import { type DigestInto, type Level, TreeHasher } from './kernel.ts'

/**
 * The shared description of one tree build, handed as is to worker threads (every buffer in it is
 * on a SharedArrayBuffer when workers run). The leaf level is cut into chunks of 2^chunkBits
 * leaves; a chunk's subtree (levels 0 … chunkBits) is hashed by whoever takes the chunk, and the
 * levels above are hashed by the main thread from the chunk roots.
 */
export interface BuildJob {
  hash: HashName
  currencies: number
  depth: number
  chunkBits: number
  cols: UserColumns
  slots: Int32Array
  random: Uint8Array
  /**
   * In memory: levels 0 … depth, every one complete. On disk: only level `chunkBits` here; the
   * levels below go to `file` (tree.bin layout: per level, all hashes then all sums).
   */
  levels: Level[]
  file: { path: string; offsets: number[] } | null
  /** [next chunk to take, overflow flag]. */
  control: Int32Array
}

/** The byte offset of each level in tree.bin (leaves first; each level: hashes, then sums). */
export function levelOffsets(depth: number, currencies: number): number[] {
  const w = 32 + currencies * U128_BYTES
  const out: number[] = []
  let o = 0
  for (let l = 0; l <= depth; l++) {
    out.push(o)
    o += 2 ** (depth - l) * w
  }
  out.push(o)
  return out
}

/**
 * Takes chunks until none is left (or another thread saw an overflow) and hashes them. Returns
 * false when a sum reached 2^128.
 */
export function runChunks(job: BuildJob, digest: DigestInto): boolean {
  const { depth, chunkBits: c, currencies: k } = job
  const w = k * U128_BYTES
  const hasher = new TreeHasher(digest, k)
  const chunks = 2 ** (depth - c)
  const src = { cols: job.cols, slots: job.slots, random: job.random }
  const local: Level[] = []
  if (job.file)
    for (let l = 0; l < c; l++) {
      const n = 2 ** (c - l)
      local.push({ hashes: new Uint8Array(n * 32), balances: new Uint8Array(n * w) })
    }
  const fd = job.file ? openSync(job.file.path, 'r+') : -1
  try {
    for (;;) {
      if (Atomics.load(job.control, 1) !== 0) return false
      const j = Atomics.add(job.control, 0, 1)
      if (j >= chunks) return true
      // Level l of chunk j: 2^(c−l) nodes starting at j·2^(c−l) (in memory) or 0 (local buffer).
      const out = (l: number): [Level, number] => {
        if (l === c) return [job.levels[c] as Level, j]
        if (job.file) return [local[l] as Level, 0]
        return [job.levels[l] as Level, j * 2 ** (c - l)]
      }
      const [leaves, lb] = out(0)
      hasher.leaves(src, j * 2 ** c, 2 ** c, leaves, lb)
      for (let l = 1; l <= c; l++) {
        const [child, cb] = out(l - 1)
        const [parent, pb] = out(l)
        if (!hasher.parents(child, cb, 2 ** (c - l), parent, pb)) {
          Atomics.store(job.control, 1, 1)
          return false
        }
      }
      if (job.file)
        for (let l = 0; l < c; l++) {
          const n = 2 ** (c - l)
          const lv = local[l] as Level
          const at = job.file.offsets[l] as number
          writeAll(fd, lv.hashes, at + j * n * 32)
          writeAll(fd, lv.balances, at + 2 ** (depth - l) * 32 + j * n * w)
        }
    }
  } finally {
    if (fd >= 0) closeSync(fd)
  }
}

/** Writes all of `buf` at `position`. */
export function writeAll(fd: number, buf: Uint8Array, position: number): void {
  let done = 0
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done)
}

/** Hashes levels chunkBits+1 … depth from level chunkBits (in `levels`). False on overflow. */
export function hashTop(job: BuildJob, digest: DigestInto): boolean {
  const hasher = new TreeHasher(digest, job.currencies)
  for (let l = job.chunkBits + 1; l <= job.depth; l++)
    if (!hasher.parents(job.levels[l - 1] as Level, 0, 2 ** (job.depth - l), job.levels[l] as Level, 0)) return false
  return true
}
