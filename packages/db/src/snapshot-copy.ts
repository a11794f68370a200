import type { KVSnapshot } from './kv.ts'
import { LevelKV } from './leveldb.ts'

/** What {@link copySnapshot} wrote. */
export interface SnapshotCopyStats {
  entries: number
  bytes: number
}

/**
 * Writes every entry of a snapshot into a NEW LevelDB at `dest` and closes it. The snapshot is a
 * consistent view of one moment (the writer keeps committing meanwhile), so the copy is a
 * consistent database — unlike a copy of the live files, which may catch LevelDB between a log
 * write and a compaction.
 */
export async function copySnapshot(
  snapshot: KVSnapshot,
  dest: string,
  opts: { batchEntries?: number } = {},
): Promise<SnapshotCopyStats> {
  const out = new LevelKV({ path: dest, cacheSize: 8 * 1024 * 1024 })
  await out.open()
  const limit = opts.batchEntries ?? 2000
  const stats: SnapshotCopyStats = { entries: 0, bytes: 0 }
  try {
    let ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = []
    for await (const [key, value] of snapshot.iterate()) {
      ops.push({ type: 'put', key: key.slice(), value: value.slice() })
      stats.entries++
      stats.bytes += key.length + value.length
      if (ops.length >= limit) {
        await out.batch(ops)
        ops = []
      }
    }
    await out.batch(ops)
  } finally {
    await out.close()
  }
  return stats
}
