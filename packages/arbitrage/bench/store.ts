// Storage cost per block: upsert N changed pools and append their reserve-history rows, on PGlite
// (in memory) and, when given a URL, PostgreSQL.
//   node --import tsx packages/arbitrage/bench/store.ts [POOLS=1000] [BLOCKS=10] [postgres://…]
import { openPglite, openPostgres, type Sql } from '@cairn/service-kit/sql'
import { migrateArb } from '../src/store/migrations.ts'
import { ensurePartitions } from '../src/store/partitions.ts'
import { ArbStore } from '../src/store/store.ts'

const [n = '1000', blocks = '10', url] = process.argv.slice(2)
const N = Number(n)
const addr = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as const

async function run(name: string, sql: Sql): Promise<void> {
  await migrateArb(sql)
  await ensurePartitions(sql, Date.now(), 1)
  const store = new ArbStore(sql)
  const pools = Array.from({ length: N }, (_, i) => ({
    address: addr(0x10000 + i),
    token0: addr(1),
    token1: addr(2 + i),
    fee: { num: 997n, den: 1000n },
    reserve0: 10n ** 21n,
    reserve1: 10n ** 21n,
  }))
  const times: number[] = []
  for (let b = 0; b < Number(blocks); b++) {
    const at = new Date()
    for (const p of pools) p.reserve0 += 1n
    const t0 = performance.now()
    await store.upsertPools(pools, BigInt(b), at)
    await store.recordReserves(
      pools.map((p) => ({ pool: p.address, block: BigInt(b), reserve0: p.reserve0, reserve1: p.reserve1, at })),
    )
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  console.log(
    `${name}: ${N} pools/block, ${blocks} blocks: p50 ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms`,
  )
  await sql.close()
}

await run('pglite', await openPglite(null))
if (url) {
  const schema = `arb_bench_${process.pid}`
  const admin = await openPostgres(url, { max: 1 })
  await admin.exec(`CREATE SCHEMA ${schema}`)
  try {
    await run('postgres', await openPostgres(`${url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`))
  } finally {
    await admin.exec(`DROP SCHEMA ${schema} CASCADE`)
    await admin.close()
  }
}
