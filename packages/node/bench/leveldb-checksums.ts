// What verifying LevelDB's block checksums costs a read (LevelKV's verifyChecksums, on by default).
// A store of ENTRIES random values is compacted into tables, then read at random with and without
// verification, rounds alternating which goes first, with a block cache that holds the store (reads
// hit it: no block is read from a file, nothing is verified) and one far smaller (most reads miss
// and read, and verify, a block from the OS page cache). With a chain datadir, its blocks are read
// too, by number through the chain store (decoded), as eth_getBlockByNumber reads them. Each figure
// is the process's CPU time per read (every thread's: LevelDB reads on libuv's), which a machine
// shared with other work disturbs far less than wall time.
//
//   node --import tsx packages/node/bench/leveldb-checksums.ts [entries=100000] [reads=100000] [datadir]
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStoredChain } from '@cairn/chain'
import { LevelKV } from '@cairn/db'

const ENTRIES = Number(process.argv[2] ?? 100_000)
const READS = Number(process.argv[3] ?? 100_000)
const DATADIR = process.argv[4]
const ROUNDS = 5
const VALUE_BYTES = 600
const key = (i: number) => new TextEncoder().encode(`k${String(i).padStart(9, '0')}`)
const CACHES = { hits: 256 * 1024 * 1024, misses: 1024 * 1024 }
const results: Record<string, number[]> = {}
/** CPU microseconds of this process since `from` (process.cpuUsage()). */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from)
  return d.user + d.system
}
const record = (name: string, v: number) => {
  results[name] ??= []
  results[name].push(v)
}

async function kvRound(dir: string, order: number[], verify: boolean): Promise<void> {
  for (const [cache, cacheSize] of Object.entries(CACHES)) {
    const kv = new LevelKV({ path: dir, cacheSize, verifyChecksums: verify })
    await kv.open()
    if (cache === 'hits') for (let i = 0; i < ENTRIES; i++) kv.getSync(key(i))
    const t = process.cpuUsage()
    for (const i of order) kv.getSync(key(i))
    record(`point read, cache ${cache}, verify ${verify} (CPU µs)`, cpuSince(t) / order.length)
    await kv.close()
  }
}

async function chainRound(datadir: string, verify: boolean): Promise<void> {
  for (const [cache, cacheSize] of Object.entries(CACHES)) {
    const kv = new LevelKV({ path: join(datadir, 'chaindata'), cacheSize, verifyChecksums: verify })
    await kv.open()
    const view = await openStoredChain(kv)
    const head = (await view.blocks.getBlockNumber((await view.blocks.getHeadHash('latest')) as Uint8Array)) as bigint
    const passes = cache === 'hits' ? 3 : 1 // the first pass of the cache-hit case fills the cache
    let t = process.cpuUsage()
    for (let pass = 0; pass < passes; pass++) {
      t = process.cpuUsage()
      for (let n = 0n; n <= head; n++) await view.blocks.getBlockByNumber(n)
    }
    record(`block by number, cache ${cache}, verify ${verify} (CPU µs)`, cpuSince(t) / Number(head + 1n))
    await kv.close()
  }
}

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
  for (let round = 0; round < ROUNDS; round++) {
    for (const verify of round % 2 === 0 ? [false, true] : [true, false]) {
      await kvRound(dir, order, verify)
      if (DATADIR) await chainRound(DATADIR, verify)
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
  console.log(`${ENTRIES} entries of ${VALUE_BYTES} B, ${READS} random reads; median of ${ROUNDS} rounds`)
  for (const [name, xs] of Object.entries(results).sort(([a], [b]) => (a < b ? -1 : 1)))
    console.log(`${name.padEnd(52)} ${median(xs).toFixed(2)}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
