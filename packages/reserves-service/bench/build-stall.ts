// Does the API stall behind a snapshot build? Starts the real `cairn reserves serve` (PGlite in a
// fresh datadir, or PostgreSQL with DATABASE_URL), uploads `users` users as CSV (with curl), and probes a cheap
// route every 10 ms from upload to "built": prints the worst and p99 probe latency and the build time.
//
//   node --import tsx packages/reserves-service/bench/build-stall.ts [users=200000] [route=/health]
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { startBenchService, writeUsersCsv } from './service.ts'

const users = Number(process.argv[2] ?? 200_000)
const route = process.argv[3] ?? '/health'
// NODE_ARGS: extra flags for the service's node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see a stall.
const nodeArgs = process.env.NODE_ARGS?.split(' ').filter(Boolean) ?? []
const svc = startBenchService({ name: 'build-stall', log: 'file', nodeArgs })
const { base, dir } = svc

async function main() {
  await svc.ready()
  // Sent by curl, another process: sending a 1M-line body from this one stalled its own loop for
  // ~200 ms as the upload began, which its probes counted against the service.
  const csv = join(dir, 'users.csv')
  writeUsersCsv(csv, users)
  const lat: number[] = []
  /** The worst probe: its latency, when it started (ms after the upload began), and this client's own loop lag around it. */
  let worst = { ms: 0, at: 0, clientLag: 0 }
  /** The worst probe with this client's own loop lag during it taken off: the service's share. */
  let worstService = 0
  let done = false
  // A probe is timed by this process too: its own event-loop stalls (the 1M-line body, GC) would
  // count against the service. Measured apart, and printed beside the worst probe.
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  let t0 = performance.now()
  const probe = (async () => {
    while (!done) {
      lag.reset()
      const t = performance.now()
      await fetch(`${base}${route}`).then((r) => r.arrayBuffer())
      const ms = performance.now() - t
      lat.push(ms)
      const clientLag = lag.max / 1e6
      if (ms > worst.ms) worst = { ms, at: t - t0, clientLag }
      worstService = Math.max(worstService, ms - clientLag)
      await new Promise((r) => setTimeout(r, 10))
    }
  })()
  t0 = performance.now()
  const status = await svc.upload('/v1/snapshots?id=stall&currencies=BTC:8,ETH:18', csv, 'text/csv')
  if (status !== '202') throw new Error(`upload: HTTP ${status}`)
  const accepted = performance.now() - t0
  await svc.built('stall')
  const total = performance.now() - t0
  done = true
  await probe
  lat.sort((a, b) => a - b)
  const p99 = lat[Math.floor(lat.length * 0.99)] ?? 0
  process.stdout.write(
    `${users} users on ${svc.database}: upload accepted ${(accepted / 1000).toFixed(1)} s, built ${(total / 1000).toFixed(1)} s; ` +
      `${route} probes ${lat.length}, max ${lat[lat.length - 1]!.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms\n` +
      `worst probe at ${(worst.at / 1000).toFixed(1)} s (${worst.at < accepted ? 'upload' : 'build'}); this client's own loop lag meanwhile ${worst.clientLag.toFixed(0)} ms; ` +
      `worst with the client's lag taken off ${worstService.toFixed(0)} ms\n`,
  )
}

svc.run(main)
