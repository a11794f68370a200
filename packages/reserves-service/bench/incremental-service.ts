// Incremental snapshot builds in the service against a full build (docs/reserves/incremental.md).
// Starts the real `cairn reserves serve` (PGlite in a fresh datadir, or PostgreSQL with
// DATABASE_URL), uploads `users` users as CSV (curl) and times the full build, then posts the
// next snapshot with `pct`% of the users changed (80% new balances, 10% new users, 10% removed)
// and times it; `runs` incremental builds in a row (a chain), each timed. Prints both build
// times (from the accepted request to "built") and their ratio, and the worst /health probe.
//
//   node --import tsx packages/reserves-service/bench/incremental-service.ts [users=1000000] [pct=1] [runs=3]
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBenchService, writeUsersCsv } from './service.ts'

const users = Number(process.argv[2] ?? 1_000_000)
const pct = Number(process.argv[3] ?? 1)
const runs = Number(process.argv[4] ?? 3)
// the service's log (JSON lines: 'snapshot built' says each build's time, reading and writing)
const svc = startBenchService({ name: 'incremental-service', log: 'file' })
const { base, dir } = svc

async function main() {
  await svc.ready()
  const csv = join(dir, 'users.csv')
  writeUsersCsv(csv, users)
  const n = Math.round((users * pct) / 100)
  let nextNew = users
  let removedUpTo = users - 1
  // every body is written before the probes start: this process's own stalls would count against the service
  for (let r = 0; r < runs; r++) {
    const changes: unknown[] = []
    // 80% changed balances (users spread over the whole id range), 10% new, 10% removed (from the top)
    const changed = Math.round(n * 0.8)
    const stride = Math.floor(users / 2 / changed)
    for (let j = 0; j < changed; j++)
      changes.push({ userId: `user-${j * stride}`, balances: { BTC: String(7 + r), ETH: '1' } })
    for (let j = 0; j < Math.round(n * 0.1); j++)
      changes.push({ userId: `user-${nextNew++}`, balances: { BTC: '5', ETH: '5' } })
    while (changes.length < n) changes.push({ userId: `user-${removedUpTo--}`, remove: true })
    const id = `next-${r}`
    const body = join(dir, `${id}.json`)
    writeFileSync(body, JSON.stringify({ id, changes }))
  }
  /** The worst /health probe per phase: the upload, the full build, the incremental builds. */
  const worst: Record<string, number> = { upload: 0, full: 0, incremental: 0 }
  let phase = 'upload'
  let done = false
  const probe = (async () => {
    while (!done) {
      const t = performance.now()
      const at = phase
      await fetch(`${base}/health`).then((r) => r.arrayBuffer())
      worst[at] = Math.max(worst[at] ?? 0, performance.now() - t)
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  let t0 = performance.now()
  const status = await svc.upload('/v1/snapshots?id=full&currencies=BTC:8,ETH:18', csv, 'text/csv')
  if (status !== '202') throw new Error(`upload: HTTP ${status}`)
  const accepted = performance.now() - t0
  phase = 'full'
  await svc.built('full')
  phase = 'incremental'
  const full = performance.now() - t0
  const fullBuild = full - accepted
  process.stdout.write(
    `${users} users on ${svc.database}: full build ${(fullBuild / 1000).toFixed(1)} s after the upload was accepted (${(accepted / 1000).toFixed(1)} s), ${(full / 1000).toFixed(1)} s in all\n`,
  )
  let prev = 'full'
  const times: number[] = []
  for (let r = 0; r < runs; r++) {
    const id = `next-${r}`
    const body = join(dir, `${id}.json`)
    t0 = performance.now()
    const s = await svc.upload(`/v1/snapshots/${prev}/next`, body, 'application/json')
    if (s !== '202') throw new Error(`next: HTTP ${s}`)
    await svc.built(id)
    const ms = performance.now() - t0
    times.push(ms)
    prev = id
    process.stdout.write(
      `incremental ${r + 1}/${runs}: ${n} changes, built in ${(ms / 1000).toFixed(2)} s from the request (${(fullBuild / ms).toFixed(1)}× the full build)\n`,
    )
  }
  done = true
  await probe
  times.sort((a, b) => a - b)
  const median = times[Math.floor(times.length / 2)] as number
  process.stdout.write(
    `median incremental ${(median / 1000).toFixed(2)} s vs full build ${(fullBuild / 1000).toFixed(1)} s: ${(fullBuild / median).toFixed(1)}× faster; worst /health during the upload ${worst.upload?.toFixed(0)} ms, the full build ${worst.full?.toFixed(0)} ms, the incremental builds ${worst.incremental?.toFixed(0)} ms; service log ${svc.logFile}\n`,
  )
}

svc.run(main)
