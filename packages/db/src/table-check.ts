import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** LevelDB's table magic number, the last 8 bytes of every table file (little-endian). */
const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb])
/** A table's footer: two block handles (at most 40 bytes, padded) and the magic. */
const FOOTER_BYTES = 48

/**
 * The cheap integrity check made before LevelDB opens a store: every table file (`*.ldb`, `*.sst`)
 * must be at least a footer long and end with LevelDB's magic number. Reads 8 bytes per file —
 * milliseconds for thousands of tables — so a truncated or overwritten table is found at start
 * instead of the first time a read reaches it (possibly hours later, in the middle of a block).
 * Damage inside a table's data blocks is found by the reads themselves (a DB_CORRUPT error) and by
 * `cairn db check`. Returns the damaged files with why.
 */
export function damagedTables(dir: string): { file: string; why: string }[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return [] // no store yet: LevelDB creates it
  }
  const damaged: { file: string; why: string }[] = []
  const tail = Buffer.alloc(TABLE_MAGIC.length)
  for (const name of names) {
    if (!name.endsWith('.ldb') && !name.endsWith('.sst')) continue
    const path = join(dir, name)
    const size = statSync(path).size
    if (size < FOOTER_BYTES) {
      damaged.push({ file: name, why: `${size} bytes, shorter than a table footer` })
      continue
    }
    const fd = openSync(path, 'r')
    try {
      readSync(fd, tail, 0, tail.length, size - tail.length)
    } finally {
      closeSync(fd)
    }
    if (!tail.equals(TABLE_MAGIC))
      damaged.push({ file: name, why: 'its footer does not end with the table magic number' })
  }
  return damaged
}
