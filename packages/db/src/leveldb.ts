import { statfs } from 'node:fs/promises'
import { CairnError } from '@cairn/utils'
import { ClassicLevel } from 'classic-level'
import { type CorruptionSink, corruptionError, isCorruption } from './corruption.ts'
import { DbErrorCode } from './errors.ts'
import type { BatchOp, IterateOptions, KVSnapshot, KVStore } from './kv.ts'
import { damagedTables } from './table-check.ts'

export interface LevelKVOptions {
  /** Directory of the LevelDB files. */
  path: string
  /** LevelDB block cache in bytes (default 64 MiB). */
  cacheSize?: number
  /** LevelDB write buffer in bytes (default 16 MiB). */
  writeBufferSize?: number
  /**
   * Table files LevelDB keeps open (default 128). LevelDB maps each open table file into memory
   * and the pages it reads stay resident: with classic-level's 1,000 the mapped tables alone grew
   * the node's resident set by ~840 MB at 1M accounts; 128 tables of 2 MiB bound it to ~256 MiB.
   * Tables past the limit are reopened when read (their index and filter blocks read again).
   */
  maxOpenFiles?: number
  /**
   * Share the open LevelDB with other threads of this process (classic-level's `multithreading`):
   * every thread that opens the same path must set it, and they then share one handle, its block
   * cache and its write visibility (the RPC read threads open the chain's store this way). A
   * shared handle stays open while any thread holds it: the reopen after a failed write then gets
   * the same handle back, with LevelDB's write error still set.
   */
  multithreading?: boolean
  /**
   * Verify LevelDB's block checksums (default true): every read checks the CRC of each table block
   * it reads (`ReadOptions::verify_checksums`), and a table's index and filter blocks, compactions
   * and the write-ahead log are checked too (`Options::paranoid_checks`). A damaged block is then
   * `DB_CORRUPT` ("block checksum mismatch") instead of bytes LevelDB parses as they are: a wrong
   * or missing value, or an assertion that aborts the process (`ExtractUserKey`). Needs the
   * classic-level binding built from patches/classic-level+3.0.0.patch. Costs a CRC32C per block
   * read from disk (docs/performance.md); false only for a benchmark's comparison.
   */
  verifyChecksums?: boolean
}

export interface LevelKVModules {
  /** Told of every operation that found the store corrupted (it is then thrown as DB_CORRUPT). */
  onCorruption?: CorruptionSink
}

const BYTES = { keyEncoding: 'view', valueEncoding: 'view' } as const
/** Free space a reopen after a failed write waits for (LevelDB writes a new log and manifest). */
const REOPEN_MIN_FREE_BYTES = 4 * 1024 * 1024

/** The on-disk store: LevelDB through classic-level, keys and values as Uint8Array views. */
export class LevelKV implements KVStore {
  readonly kind = 'leveldb' as const
  private db: ClassicLevel<Uint8Array, Uint8Array>
  readonly path: string
  /** The last write failed: LevelDB keeps that error for every later write until reopened. */
  private writeFailed = false

  constructor(
    private readonly opts: LevelKVOptions,
    private readonly modules: LevelKVModules = {},
  ) {
    this.path = opts.path
    this.db = this.make()
  }

  private make(): ClassicLevel<Uint8Array, Uint8Array> {
    return new ClassicLevel<Uint8Array, Uint8Array>(this.opts.path, {
      ...BYTES,
      cacheSize: this.opts.cacheSize ?? 64 * 1024 * 1024,
      writeBufferSize: this.opts.writeBufferSize ?? 16 * 1024 * 1024,
      maxOpenFiles: this.opts.maxOpenFiles ?? 128,
      verifyChecksums: this.opts.verifyChecksums ?? true,
      paranoidChecks: this.opts.verifyChecksums ?? true,
    })
  }

  async open(): Promise<void> {
    const damaged = damagedTables(this.path)
    if (damaged.length > 0) {
      const list = damaged.map((d) => `${d.file} (${d.why})`).join(', ')
      throw corruptionError(new Error(`Corruption: damaged table file(s): ${list}`), this.path)
    }
    try {
      await this.db.open({ multithreading: this.opts.multithreading ?? false })
    } catch (err) {
      if (isCorruption(err)) throw corruptionError(err, this.path)
      const cause = (err as { cause?: { message?: string; code?: string } }).cause
      const detail = cause?.message ?? (err as Error).message
      if (cause?.code === 'LEVEL_CHECKSUMS_UNSUPPORTED')
        throw new CairnError(DbErrorCode.OPEN_FAILED, `cannot open database at ${this.path}: ${detail}`, {
          fault: 'caller',
          cause: err,
          hint: 'the installed classic-level binding lacks patches/classic-level+3.0.0.patch: run `npx patch-package && npm run build:leveldb` (a C++ compiler, make and python3 are needed)',
        })
      const locked = /lock/i.test(detail)
      throw new CairnError(DbErrorCode.OPEN_FAILED, `cannot open database at ${this.path}: ${detail}`, {
        fault: locked ? 'transient' : 'caller',
        cause: err,
        hint: locked
          ? 'another Cairn process is using this datadir; stop it or choose another --datadir'
          : 'check that the datadir exists and is writable by this user',
      })
    }
  }

  async close(): Promise<void> {
    await this.db.close()
  }

  /**
   * Reopens the store after a failed write, once the disk has room again: while it is still full
   * the open handle is kept (reads go on working) and the write fails at once.
   */
  private async reopen(): Promise<void> {
    const { bavail, bsize } = await statfs(this.path)
    if (bavail * bsize < REOPEN_MIN_FREE_BYTES) {
      throw new CairnError(DbErrorCode.WRITE_FAILED, `only ${bavail * bsize} bytes free on the datadir's filesystem`, {
        fault: 'transient',
        hint: 'free disk space on the datadir',
      })
    }
    await this.db.close()
    this.db = this.make()
    await this.db.open({ multithreading: this.opts.multithreading ?? false })
  }

  // Reads report a corrupted table as DB_CORRUPT with the way out (restore a backup), not as
  // LevelDB's bare "Corruption: bad block type".
  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.db.get(key).catch(this.failed)
  }

  getSync(key: Uint8Array): Uint8Array | undefined {
    try {
      return this.db.getSync(key)
    } catch (err) {
      return this.failed(err)
    }
  }

  getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.db.getMany(keys).catch(this.failed)
  }

  private readonly failed = (err: unknown): never => {
    throw isCorruption(err) ? this.corrupted(err) : err
  }

  /** LevelDB's corruption error as DB_CORRUPT, reported to the sink. */
  private corrupted(err: unknown): CairnError {
    const out = corruptionError(err, this.path)
    this.modules.onCorruption?.(out)
    return out
  }

  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.db.put(key, value)
  }

  del(key: Uint8Array): Promise<void> {
    return this.db.del(key)
  }

  /**
   * The operations as one chained batch (`db.batch()`, a `put`/`del` per op, then `write()`), which
   * is as atomic as the array form: the array form clones every op into an object and reads its
   * fields back through N-API, twice the calling thread's time (a block's ~6,000 writes: 19–26 ms
   * against 10–12 ms in a throw-away loop; docs/performance-history.md, eleventh session).
   */
  private async chained(ops: BatchOp[]): Promise<void> {
    const batch = this.db.batch()
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value)
        else batch.del(op.key)
      }
    } catch (err) {
      await batch.close()
      throw err
    }
    await batch.write()
  }

  async batch(ops: BatchOp[]): Promise<void> {
    if (ops.length === 0) return
    try {
      // After a failed write (a full disk) LevelDB refuses every write until reopened: reopen now,
      // so the node recovers by itself once space returns.
      if (this.writeFailed) await this.reopen()
      await this.chained(ops)
      this.writeFailed = false
    } catch (err) {
      this.writeFailed = true
      if (isCorruption(err)) throw this.corrupted(err)
      throw new CairnError(DbErrorCode.WRITE_FAILED, `database write failed: ${(err as Error).message}`, {
        fault: 'transient',
        cause: err,
        hint: 'check free disk space and permissions of the datadir',
      })
    }
  }

  async *iterate(opts: IterateOptions = {}): AsyncIterable<[Uint8Array, Uint8Array]> {
    try {
      for await (const entry of this.db.iterator(opts)) yield entry as [Uint8Array, Uint8Array]
    } catch (err) {
      this.failed(err)
    }
  }

  private async *iterateSnapshot(
    snapshot: ReturnType<ClassicLevel<Uint8Array, Uint8Array>['snapshot']>,
    opts: IterateOptions,
  ): AsyncIterable<[Uint8Array, Uint8Array]> {
    try {
      for await (const entry of this.db.iterator({ ...opts, snapshot })) yield entry as [Uint8Array, Uint8Array]
    } catch (err) {
      this.failed(err)
    }
  }

  snapshot(): KVSnapshot {
    const snap = this.db.snapshot()
    const db = this.db
    return {
      get: (key) => db.get(key, { snapshot: snap }).catch(this.failed),
      iterate: (opts: IterateOptions = {}) => this.iterateSnapshot(snap, opts),
      close: () => snap.close(),
    }
  }
}
