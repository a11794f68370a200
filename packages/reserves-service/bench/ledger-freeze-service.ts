// A ledger freeze with a base against a full freeze (docs/reserves/ledger.md). Starts the real
// `cairn reserves serve` (PGlite in a fresh datadir, or PostgreSQL with DATABASE_URL), fills the
// ledger with `users` users in batches of 10,000, freezes in full and times it (request to built),
// then applies `pct`% of changes through ledger batches (80% deltas, 10% new users, 10% removals)
// and times a full freeze and a freeze with the first as base, each from the request to built.
//
//   node --import tsx packages/reserves-service/bench/ledger-freeze-service.ts [users=1000000] [pct=1]
import { loadavg } from 'node:os'
import { startBenchService } from './service.ts'

const users = Number(process.argv[2] ?? 1_000_000)
const pct = Number(process.argv[3] ?? 1)
const svc = startBenchService({ name: 'ledger-freeze-service', log: 'file' })
const { base } = svc
const headers = { authorization: svc.authorization, 'content-type': 'application/json' }
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')

async function call(method: string, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body) })
  return { status: r.status, json: await r.json() }
}

async function freeze(body: Record<string, string>): Promise<number> {
  const t0 = performance.now()
  const r = await call('POST', '/v1/ledger/freeze', body)
  if (r.status !== 202) throw new Error(`freeze: HTTP ${r.status} ${JSON.stringify(r.json)}`)
  await svc.built(body.id as string)
  return performance.now() - t0
}

async function batches(changes: unknown[]): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < changes.length; i += 10_000) {
    const r = await call('POST', '/v1/ledger/changes', { changes: changes.slice(i, i + 10_000) })
    if (r.status !== 200) throw new Error(`batch: HTTP ${r.status} ${JSON.stringify(r.json)}`)
  }
  return performance.now() - t0
}

async function main() {
  await svc.ready()
  const cur = await call('PUT', '/v1/ledger/currencies', {
    currencies: [
      { symbol: 'BTC', decimals: 8 },
      { symbol: 'ETH', decimals: 18 },
    ],
  })
  if (cur.status !== 200) throw new Error(`currencies: HTTP ${cur.status}`)
  const fill: unknown[] = []
  for (let i = 0; i < users; i++)
    fill.push({ userId: `user-${i}`, balances: { BTC: String(i + 1), ETH: String(i * 3) } })
  const fillMs = await batches(fill)
  fill.length = 0
  const store = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'
  process.stdout.write(
    `${users} users on ${store}: ledger filled in ${(fillMs / 1000).toFixed(1)} s (load ${load()})\n`,
  )
  const first = await freeze({ id: 'f0' })
  process.stdout.write(`first full freeze: ${(first / 1000).toFixed(1)} s (load ${load()})\n`)
  const n = Math.round((users * pct) / 100)
  const changes: unknown[] = []
  const changed = Math.round(n * 0.8)
  const stride = Math.floor(users / 2 / changed)
  for (let j = 0; j < changed; j++) changes.push({ userId: `user-${j * stride}`, deltas: { BTC: '+7', ETH: '+1' } })
  for (let j = 0; j < Math.round(n * 0.1); j++) changes.push({ userId: `user-${users + j}`, balances: { BTC: '5' } })
  for (let j = 0; changes.length < n; j++) changes.push({ userId: `user-${users - 1 - j}`, remove: true })
  const changeMs = await batches(changes)
  process.stdout.write(`${n} changes applied in ${(changeMs / 1000).toFixed(1)} s\n`)
  const incremental = await freeze({ id: 'i1', base: 'f0' })
  process.stdout.write(`freeze with base: ${(incremental / 1000).toFixed(2)} s (load ${load()})\n`)
  const full = await freeze({ id: 'f1' })
  process.stdout.write(
    `full freeze of the same ledger: ${(full / 1000).toFixed(1)} s (load ${load()}); ${(full / incremental).toFixed(1)}× faster with a base; service log ${svc.logFile}\n`,
  )
}

svc.run(main)
