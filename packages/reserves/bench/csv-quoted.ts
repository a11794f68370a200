// Snapshot CSV reading with quoted user ids (the rows that leave the byte fast path and go
// through the CSV parser) against plain rows (the fast path). Run:
//   node --import tsx packages/reserves/bench/csv-quoted.ts
import { Readable } from 'node:stream'
import { readSnapshotColumns } from '../src/input/read.ts'

const N = 200_000
const plain = ['userId,BTC,ETH', ...Array.from({ length: N }, (_, i) => `user${i},${i},${i * 7}`)].join('\n')
const quoted = ['userId,BTC,ETH', ...Array.from({ length: N }, (_, i) => `"user,${i}",${i},${i * 7}`)].join('\n')

async function run(name: string, text: string): Promise<void> {
  const bytes = Buffer.from(text)
  const times: number[] = []
  for (let r = 0; r < 5; r++) {
    const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) =>
      bytes.subarray(i * 65536, (i + 1) * 65536),
    )
    const t = process.hrtime.bigint()
    await readSnapshotColumns(Readable.from(chunks), 'csv', null, false)
    times.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  times.sort((a, b) => a - b)
  const ms = times[2] as number
  console.log(`${name}: ${N} rows, median of 5 ${ms.toFixed(0)} ms (${((N / ms) * 1000).toFixed(0)} rows/s)`)
}

await run('plain rows (byte fast path)', plain)
await run('quoted ids (one-line splitter; csv-parse for what it refuses)', quoted)
