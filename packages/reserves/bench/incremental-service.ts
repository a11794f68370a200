// Incremental snapshot builds in the service against a full build (docs/reserves/incremental.md).
// Starts the real `cairn reserves serve` (PGlite in a fresh datadir, or PostgreSQL with
// DATABASE_URL), uploads `users` users as CSV (curl) and times the full build, then posts the
// next snapshot with `pct`% of the users changed (80% new balances, 10% new users, 10% removed)
// and times it; `runs` incremental builds in a row (a chain), each timed. Prints both build
// times (from the accepted request to "built") and their ratio, and the worst /health probe.
//
//   node --import tsx packages/reserves/bench/incremental-service.ts [users=1000000] [pct=1] [runs=3]
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signToken } from '../src/service/auth.ts'

const CAIRN = new URL('../../node/bin/cairn.js', import.meta.url).pathname
const users = Number(process.argv[2] ?? 1_000_000)
const pct = Number(process.argv[3] ?? 1)
const runs = Number(process.argv[4] ?? 3)
const dir = mkdtempSync(join(tmpdir(), 'reserves-incr-'))
const secret = 'incremental-bench-secret-incremental'
writeFileSync(join(dir, 'jwt.secret'), secret)
writeFileSync(join(dir, 'at-rest.key'), '5a'.repeat(32))
const port = 20000 + Math.floor(Math.random() * 20000)
const args = [CAIRN, 'reserves', 'serve', '--datadir', join(dir, 'data'), '--key-file', join(dir, 'at-rest.key')]
args.push('--jwt-secret-file', join(dir, 'jwt.secret'), '--http.port', String(port), '--min-depth', '4')
if (process.env.DATABASE_URL) args.push('--database-url', process.env.DATABASE_URL)
// the service's log (JSON lines: 'snapshot built' says each build's time, reading and writing)
const LOG = process.env.SERVICE_LOG ?? join(tmpdir(), 'reserves-incremental-service.log')
const child: ChildProcess = spawn('node', args, { stdio: ['ignore', openSync(LOG, 'w'), 'inherit'] })
const base = `http://127.0.0.1:${port}`
const auth = {
  authorization: `Bearer ${signToken(new TextEncoder().encode(secret), { sub: 'ops', role: 'admin', ttlSeconds: 7200 })}`,
}

async function built(id: string): Promise<void> {
  for (;;) {
    const s = (await (await fetch(`${base}/v1/snapshots/${id}`, { headers: auth })).json()) as {
      status: string
      error: string | null
    }
    if (s.status !== 'building') {
      if (s.status !== 'built') throw new Error(`build ${id} ${s.status}: ${s.error}`)
      return
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

function curl(url: string, file: string, type: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      `authorization: ${auth.authorization}`,
      '-H',
      `content-type: ${type}`,
      '--data-binary',
      `@${file}`,
      url,
    ])
    let out = ''
    p.stdout.on('data', (d) => {
      out += String(d)
    })
    p.once('error', reject)
    p.once('exit', () => resolve(out))
  })
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
  const csv = join(dir, 'users.csv')
  writeFileSync(csv, `${lines.join('\n')}\n`)
  lines.length = 0
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
  const status = await curl(`${base}/v1/snapshots?id=full&currencies=BTC:8,ETH:18`, csv, 'text/csv')
  if (status !== '202') throw new Error(`upload: HTTP ${status}`)
  const accepted = performance.now() - t0
  phase = 'full'
  await built('full')
  phase = 'incremental'
  const full = performance.now() - t0
  const fullBuild = full - accepted
  process.stdout.write(
    `${users} users on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}: full build ${(fullBuild / 1000).toFixed(1)} s after the upload was accepted (${(accepted / 1000).toFixed(1)} s), ${(full / 1000).toFixed(1)} s in all\n`,
  )
  let prev = 'full'
  const times: number[] = []
  for (let r = 0; r < runs; r++) {
    const id = `next-${r}`
    const body = join(dir, `${id}.json`)
    t0 = performance.now()
    const s = await curl(`${base}/v1/snapshots/${prev}/next`, body, 'application/json')
    if (s !== '202') throw new Error(`next: HTTP ${s}`)
    await built(id)
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
    `median incremental ${(median / 1000).toFixed(2)} s vs full build ${(fullBuild / 1000).toFixed(1)} s: ${(fullBuild / median).toFixed(1)}× faster; worst /health during the upload ${worst.upload?.toFixed(0)} ms, the full build ${worst.full?.toFixed(0)} ms, the incremental builds ${worst.incremental?.toFixed(0)} ms; service log ${LOG}\n`,
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
