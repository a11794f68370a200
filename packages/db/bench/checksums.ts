// What verifying LevelDB's block checksums costs a read (LevelKV's verifyChecksums, on by default):
// a store of ENTRIES random values, compacted into tables, then random point reads and a full scan,
// with and without verification, alternating, with a block cache that holds the store (reads hit
// it: no block is read from the file, so nothing is verified) and one far smaller (most reads miss
// it and read and verify a block from the OS page cache).
//
//   node --import tsx packages/db/bench/checksums.ts [entries=200000] [reads=100000]
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelKV } from '../src/index.ts'

const ENTRIES = Number(process.argv[2] ?? 200_000)
const READS = Number(process.argv[3] ?? 100_000)
const VALUE_BYTES = 600
const key = (i: number) => new TextEncoder().encode(`k${String(i).padStart(9, '0')}`)

const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-checksums-'))
try {
  const w = new LevelKV({ path: dir })
  await w.open()
  for (let i = 0; i < ENTRIES; i += 1000)
    await w.batch(
      Array.from({ length: 1000 }, (_, j) => ({
        type: 'put' as const,
        key: key(i + j),
        value: randomBytes(VALUE_BYTES),
      })),
    )
  await w.close()
  const order = Array.from({ length: READS }, () => Math.floor(Math.random() * ENTRIES))
  const results: Record<string, number[]> = {}
  for (let round = 0; round < 3; round++) {
    for (const cacheSize of [256 * 1024 * 1024, 4 * 1024 * 1024]) {
      for (const verifyChecksums of [false, true]) {
        const kv = new LevelKV({ path: dir, cacheSize, verifyChecksums })
        await kv.open()
        if (cacheSize > 64 * 1024 * 1024)
          for await (const _ of kv.iterate()) {
          } // warm the cache
        let t = performance.now()
        for (const i of order) await kv.get(key(i))
        const gets = performance.now() - t
        t = performance.now()
        let n = 0
        for await (const _ of kv.iterate()) n++
        const scan = performance.now() - t
        await kv.close()
        const name = `cache ${cacheSize >> 20} MiB, verify ${verifyChecksums}`
        ;(results[`${name}: get µs`] ??= []).push((gets * 1000) / READS)
        ;(results[`${name}: scan ms`] ??= []).push(scan)
        if (n !== ENTRIES) throw new Error(`scan read ${n} of ${ENTRIES}`)
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
  console.log(`${ENTRIES} entries of ${VALUE_BYTES} B, ${READS} random gets, median of 3 rounds`)
  for (const [name, xs] of Object.entries(results)) console.log(`${name.padEnd(40)} ${median(xs).toFixed(2)}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
