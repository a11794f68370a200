// Does the API stall behind a snapshot build? Starts the real `cairn reserves serve` (PGlite in a
// fresh datadir, or PostgreSQL with DATABASE_URL), uploads `users` users as CSV (with curl), and probes a cheap
// route every 10 ms from upload to "built": prints the worst and p99 probe latency and the build time.
//
//   node --import tsx packages/reserves/bench/build-stall.ts [users=200000] [route=/health]
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { signToken } from '../src/service/auth.ts'

const CAIRN = new URL('../../node/bin/cairn.js', import.meta.url).pathname
const users = Number(process.argv[2] ?? 200_000)
const route = process.argv[3] ?? '/health'
const dir = mkdtempSync(join(tmpdir(), 'reserves-stall-'))
const secret = 'build-stall-secret-build-stall-secret'
writeFileSync(join(dir, 'jwt.secret'), secret)
writeFileSync(join(dir, 'at-rest.key'), '5a'.repeat(32))
const port = 20000 + Math.floor(Math.random() * 20000)
const args = [CAIRN, 'reserves', 'serve', '--datadir', join(dir, 'data'), '--key-file', join(dir, 'at-rest.key')]
args.push('--jwt-secret-file', join(dir, 'jwt.secret'), '--http.port', String(port), '--min-depth', '4')
if (process.env.DATABASE_URL) args.push('--database-url', process.env.DATABASE_URL)
// NODE_ARGS: extra flags for the service's node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to see a stall.
const nodeArgs = process.env.NODE_ARGS?.split(' ').filter(Boolean) ?? []
const child: ChildProcess = spawn('node', [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
const base = `http://127.0.0.1:${port}`
const auth = {
  authorization: `Bearer ${signToken(new TextEncoder().encode(secret), { sub: 'ops', role: 'admin', ttlSeconds: 3600 })}`,
}

async function main() {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/docs`)).ok) break
    } catch {}
    if (i > 1800) throw new Error('service did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  const lines = ['userId,BTC,ETH']
  for (let i = 0; i < users; i++) lines.push(`user-${i},${i + 1},${i * 3}`)
  // Sent by curl, another process: sending a 1M-line body from this one stalled its own loop for
  // ~200 ms as the upload began, which its probes counted against the service.
  const csv = join(dir, 'users.csv')
  writeFileSync(csv, `${lines.join('\n')}\n`)
  lines.length = 0
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
  const status = await new Promise<string>((resolve, reject) => {
    const curl = spawn('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      `authorization: ${auth.authorization}`,
      '-H',
      'content-type: text/csv',
      '--data-binary',
      `@${csv}`,
      `${base}/v1/snapshots?id=stall&currencies=BTC:8,ETH:18`,
    ])
    let out = ''
    curl.stdout.on('data', (d) => {
      out += String(d)
    })
    curl.once('error', reject)
    curl.once('exit', () => resolve(out))
  })
  if (status !== '202') throw new Error(`upload: HTTP ${status}`)
  const accepted = performance.now() - t0
  for (;;) {
    const s = (await (await fetch(`${base}/v1/snapshots/stall`, { headers: auth })).json()) as { status: string }
    if (s.status !== 'building') {
      if (s.status !== 'built') throw new Error(`build ${s.status}`)
      break
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  const total = performance.now() - t0
  done = true
  await probe
  lat.sort((a, b) => a - b)
  const p99 = lat[Math.floor(lat.length * 0.99)] ?? 0
  process.stdout.write(
    `${users} users on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}: upload accepted ${(accepted / 1000).toFixed(1)} s, built ${(total / 1000).toFixed(1)} s; ` +
      `${route} probes ${lat.length}, max ${lat[lat.length - 1]!.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms\n` +
      `worst probe at ${(worst.at / 1000).toFixed(1)} s (${worst.at < accepted ? 'upload' : 'build'}); this client's own loop lag meanwhile ${worst.clientLag.toFixed(0)} ms; ` +
      `worst with the client's lag taken off ${worstService.toFixed(0)} ms\n`,
  )
}

main()
  .catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`)
    process.exitCode = 1
  })
  .finally(() => {
    child.kill('SIGTERM')
    child.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  })
