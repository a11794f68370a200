// Reserves benchmark table: node --import tsx packages/reserves/bench/run.ts
// 1M users × 3 currencies in memory (SHA-256 and Keccak-256, one thread and worker threads), and
// with RESERVES_BENCH_10M=1 a 10M-user CSV streamed into a tree directory. Each scenario runs in
// its own process (peak RSS is its own). Prints figures; asserts nothing (the machine is shared):
// compare ratios from the same run. RESERVES_BENCH_USERS overrides 1,000,000.
import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const tsx = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/loader.mjs'),
).href
const scenario = new URL('./scenario.ts', import.meta.url).pathname
const run = (args: string[]): Record<string, unknown> =>
  JSON.parse(
    execFileSync(process.execPath, ['--import', tsx, scenario, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }),
  )

const users = Number(process.env.RESERVES_BENCH_USERS ?? 1_000_000)
const workers = Math.min(8, availableParallelism())
const rows: string[][] = [
  ['scenario', 'hash', 'threads', 'build s', 'cpu s', 'users/s', 'peak RSS MiB', 'proof B', 'proofs/s'],
]
const fmt = (n: unknown, d = 2) => (typeof n === 'number' ? n.toFixed(d) : String(n))
for (const hash of ['sha256', 'keccak256'])
  for (const w of [1, workers]) {
    const r = run(['memory', String(users), '3', hash, String(w)])
    rows.push([
      `${users} x 3 in memory`,
      hash,
      String(w === 1 ? 1 : `${w} workers`),
      fmt(r.seconds),
      fmt(r.cpuSeconds),
      fmt(users / (r.seconds as number), 0),
      String(r.peakMiB),
      String(r.proofBytes),
      fmt(r.proofsPerSecond, 0),
    ])
  }

if (process.env.RESERVES_BENCH_10M === '1') {
  const n = 10_000_000
  const csv = join(tmpdir(), `cairn-reserves-bench-${n}.csv`)
  if (!existsSync(csv) || statSync(csv).size < n * 30) {
    const fd = openSync(csv, 'w')
    writeSync(fd, 'userId,BTC,ETH,USDT\n')
    for (let i = 0; i < n; i += 100_000) {
      let s = ''
      for (let j = i; j < i + 100_000; j++)
        s += `user-${j}@example.com,${(j * 7919) % 100_000_000},${(j * 104729) % 1_000_000_000_000},${(j * 15485863) % 10_000_000_000}\n`
      writeSync(fd, s)
    }
    closeSync(fd)
  }
  const r = run(['dir', csv, join(tmpdir(), `cairn-reserves-bench-${process.pid}`), 'sha256'])
  const m = r.marks as { read: number; placed: number; hashed: number }
  rows.push([
    `${n} x 3 CSV → dir (read ${fmt(m.read, 1)} s, place ${fmt(m.placed - m.read, 1)} s, hash+write ${fmt(m.hashed - m.placed, 1)} s)`,
    'sha256',
    `${workers} workers`,
    fmt(r.seconds),
    fmt(r.cpuSeconds),
    fmt(n / (r.seconds as number), 0),
    String(r.peakMiB),
    String(r.proofBytes),
    `1 in ${fmt(r.proofMs, 0)} ms from disk`,
  ])
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
for (const [i, r] of rows.entries()) {
  process.stdout.write(`${r.map((c, j) => c.padEnd(widths[j]!)).join(' | ')}\n`)
  if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('-|-')}\n`)
}
