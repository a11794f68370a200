import { closeSync, createReadStream, ftruncateSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { formatOf, readSnapshotColumns } from '../input/read.ts'
import type { InputFormat } from '../input/rows.ts'
import { checkBuild, PARALLEL_MIN_LEAVES, prepareJob, runJob } from '../tree/build.ts'
import type { UserColumns } from '../tree/columns.ts'
import { type BuildJob, levelOffsets, writeAll } from '../tree/job.ts'
import { digestFor, type Level } from '../tree/kernel.ts'
import { defaultWorkers, startPool } from '../tree/pool.ts'
import { nodeAt } from '../tree/proof.ts'
import { cryptoRandom, type RandomSource } from '../tree/random.ts'
import type { HashName } from '../verifier/hash.ts'
import type { Currency } from '../verifier/proof.ts'
import type { SnapshotFile } from './format.ts'
import { UsersFileWriter } from './users-file.ts'

export interface DirBuildOptions {
  hash: HashName
  snapshotId: string
  minDepth?: number
  /** Required for NDJSON; for CSV the header names them (decimals from here). */
  currencies?: Currency[] | null
  /** Default: from the file extension (.ndjson/.jsonl, else CSV); required for a stream. */
  format?: InputFormat
  /** Worker threads (default: one per core for trees of 2^15 leaves or more). */
  workers?: number
  /** Only for tests: a seeded source. Default: the OS CSPRNG. */
  random?: RandomSource
  /** Called as each phase ends (read: rows parsed and checked; hashed: tree.bin and users.ndjson written). */
  onPhase?: (phase: 'read' | 'placed' | 'hashed') => void
  /** Leaves per chunk, log2 (default CHUNK_BITS = 13). */
  chunkBits?: number
}

/** Writes users.ndjson (SECRET, mode 0600) in input order, in the format of `writeTreeDir`. */
function writeUsers(path: string, cols: UserColumns, job: BuildJob): void {
  const leafOf = new Uint32Array(cols.count)
  for (let idx = 0; idx < job.slots.length; idx++) {
    const u = job.slots[idx] as number
    if (u >= 0) leafOf[u] = idx
  }
  const w = new UsersFileWriter(path)
  try {
    w.writeAll(cols, leafOf, job.random)
  } finally {
    w.close()
  }
}

/**
 * Builds a snapshot straight from a file or stream into a tree directory (`snapshot.json`,
 * `tree.bin`, `users.ndjson`: the layout `readTreeDir` reads), for snapshots of millions of users:
 * rows are streamed into flat columns, worker threads hash 2^13-leaf subtrees and write them
 * into tree.bin at their place, and no level is ever held whole in memory. A refused snapshot
 * (any bad row, a total ≥ 2^128) writes nothing; a build that fails later removes its files.
 */
export async function buildTreeDir(
  input: string | Readable,
  dir: string,
  opts: DirBuildOptions,
): Promise<SnapshotFile> {
  const format = opts.format ?? (typeof input === 'string' ? formatOf(input) : 'csv')
  const stream = typeof input === 'string' ? createReadStream(input, { highWaterMark: 1 << 20 }) : input
  const snap = await readSnapshotColumns(stream, format, opts.currencies ?? null, false)
  const cols = snap.columns
  opts.onPhase?.('read')
  const depth = checkBuild(cols.count, { currencies: snap.currencies, minDepth: opts.minDepth })
  const workers = opts.workers ?? (2 ** depth < PARALLEL_MIN_LEAVES ? 1 : defaultWorkers())
  const treePath = join(dir, 'tree.bin')
  // Workers start now: their start-up overlaps the placement and the randomness.
  const pool = workers > 1 ? startPool(workers) : null
  let job: BuildJob
  try {
    job = prepareJob(cols, {
      hash: opts.hash,
      depth,
      random: opts.random ?? cryptoRandom,
      shared: workers > 1,
      file: treePath,
      ...(opts.chunkBits === undefined ? {} : { chunkBits: opts.chunkBits }),
    })
  } catch (err) {
    pool?.close()
    throw err
  }
  opts.onPhase?.('placed')
  const usersPath = join(dir, 'users.ndjson')
  try {
    mkdirSync(dir, { recursive: true })
    const offsets = levelOffsets(depth, cols.currencies)
    const fd = openSync(treePath, 'w')
    ftruncateSync(fd, offsets[depth + 1] as number)
    closeSync(fd)
    const digest = digestFor(opts.hash)
    await runJob(job, pool, digest, () => writeUsers(usersPath, cols, job))
    const out = openSync(treePath, 'r+')
    try {
      for (let l = job.chunkBits; l <= depth; l++) {
        const lv = job.levels[l] as Level
        writeAll(out, lv.hashes, offsets[l] as number)
        writeAll(out, lv.balances, (offsets[l] as number) + lv.hashes.length)
      }
    } finally {
      closeSync(out)
    }
    opts.onPhase?.('hashed')
    const meta: SnapshotFile = {
      version: 1,
      snapshotId: opts.snapshotId,
      hash: opts.hash,
      currencies: snap.currencies,
      depth,
      userCount: cols.count,
      root: nodeAt({ count: 1, ...(job.levels[depth] as Level) }, 0, cols.currencies),
      createdAt: new Date().toISOString(),
    }
    writeFileSync(join(dir, 'snapshot.json'), `${JSON.stringify(meta, null, 2)}\n`)
    return meta
  } catch (err) {
    pool?.close()
    rmSync(treePath, { force: true })
    rmSync(usersPath, { force: true })
    throw err
  }
}
