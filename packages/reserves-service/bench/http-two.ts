// Proof serving with two instances against one, over PostgreSQL: a fresh schema of the database at
// 127.0.0.1:5432 (db `test`) holds one built snapshot; then one, and then two, real
// `cairn reserves serve --database-url …` processes (separate ports, --no-build) serve it to the
// same keep-alive clients of this process (client c talks to instance c mod n), each user
// fetching their own proof with an HS256 bearer token, as in http.ts. For each setup it prints the
// cold rate (every asked user read once from the database), the cached rate (each instance's memory
// LRU, warmed first), the server CPU per proof (/proc utime + stime of every instance) and the
// client CPU, with the machine's cores and load average.
//
//   node --import tsx packages/reserves-service/bench/http-two.ts [users=20000] [clients=64] [seconds=8]
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import pg from 'pg'
import { createReservesService, DEFAULT_SERVICE_OPTIONS } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { openPostgres } from '../src/kernel/sql-pg.ts'
import { migrate } from '../src/schema.ts'

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test'
const SECRET = 'bench-http-secret-bench-http-secret'
const KEY_HEX = '77'.repeat(32)
const SNAPSHOT = 'bench'
const CAIRN = new URL('../../node/bin/cairn.js', import.meta.url).pathname
const TICK_US = 1e6 / 100 // /proc/<pid>/stat counts CPU in clock ticks (USER_HZ = 100 on Linux)

/** A fresh schema holding the snapshot, built in this process before any server starts. */
async function prepare(users: number): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `reserves_bench_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`CREATE SCHEMA ${schema}`)
  const url = `${PG_URL}?options=-c%20search_path%3D${schema}`
  const sql = await openPostgres(url)
  await migrate(sql)
  const secret = new TextEncoder().encode(SECRET)
  const svc = createReservesService(
    { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 10 },
    { sql, key: parseKeyFile(KEY_HEX), logger: silentLogger },
  )
  const lines = ['userId,BTC,ETH,USDT']
  for (let i = 0; i < users; i++) lines.push(`user-${i},${i * 1000 + 1},${i},${i * 7}`)
  const r = await svc.app.inject({
    method: 'POST',
    url: `/v1/snapshots?id=${SNAPSHOT}&currencies=BTC:8,ETH:18,USDT:6`,
    headers: {
      authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 3600 })}`,
      'content-type': 'text/csv',
    },
    payload: `${lines.join('\n')}\n`,
  })
  if (r.statusCode !== 202) throw new Error(`snapshot refused: ${r.body}`)
  await svc.idle()
  await svc.close()
  await sql.close()
  return {
    url,
    drop: async () => {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`)
      await admin.end()
    },
  }
}

interface Instance {
  url: string
  child: ChildProcess
  /** The process's CPU time so far, µs (all its threads). */
  cpuUs(): number
}

/** `cairn reserves serve` on a free port over the schema; resolves once it listens. */
function startInstance(dbUrl: string, dir: string): Promise<Instance> {
  const child = spawn(
    process.execPath,
    [
      CAIRN,
      'reserves',
      'serve',
      '--database-url',
      dbUrl,
      '--key-file',
      join(dir, 'key'),
      '--jwt-secret-file',
      join(dir, 'jwt'),
      '--http.port',
      '0',
      '--no-build',
      '--no-webhooks',
      '--no-reconcile',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const cpuUs = () => {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_US // utime, stime (fields 14, 15)
  }
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stderr?.on('data', (d) => {
      err += d
    })
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}${out}`)))
    child.stdout?.on('data', (d) => {
      out += d
      const m = /"addr":"(http:\/\/[^"]+)"/.exec(out)
      if (m) resolve({ url: m[1] as string, child, cpuUs })
    })
  })
}

async function stopInstance(i: Instance): Promise<void> {
  const exited = new Promise((r) => i.child.once('exit', r))
  i.child.kill('SIGTERM')
  await exited
}

interface Run {
  requests: number
  seconds: number
  p50: number
  p99: number
}

/**
 * `clients` loops over keep-alive sockets, client c on instance c mod n, each sending its next
 * request when the last answered; the users are taken in turn from `tokens`.
 */
async function load(
  urls: string[],
  tokens: string[],
  clients: number,
  o: { seconds?: number; once?: boolean },
): Promise<Run> {
  const agents = urls.map(() => new Agent({ keepAlive: true, maxSockets: clients }))
  const latencies: number[] = []
  let next = 0
  let requests = 0
  const started = performance.now()
  const deadline = started + (o.seconds ?? 0) * 1000
  const get = (at: number, token: string) =>
    new Promise<void>((resolve, reject) => {
      const { hostname, port } = new URL(urls[at] as string)
      const req = request(
        {
          agent: agents[at],
          hostname,
          port,
          path: `/v1/snapshots/${SNAPSHOT}/proof`,
          headers: { authorization: `Bearer ${token}` },
        },
        (res) => {
          res.resume()
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))))
        },
      )
      req.on('error', reject)
      req.end()
    })
  const loop = async (c: number) => {
    for (;;) {
      if (o.once ? next >= tokens.length : performance.now() >= deadline) return
      const t0 = performance.now()
      await get(c % urls.length, tokens[next++ % tokens.length] as string)
      latencies.push(performance.now() - t0)
      requests++
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, c) => loop(c)))
  const seconds = (performance.now() - started) / 1000
  for (const a of agents) a.destroy()
  latencies.sort((a, b) => a - b)
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
  return { requests, seconds, p50: q(0.5), p99: q(0.99) }
}

interface Figures {
  cold: Run
  hot: Run
  serverUsPerProof: number
  clientUsPerProof: number
  load: string
}

const rate = (r: Run) => r.requests / r.seconds
const fmt = (r: Run) =>
  `${Math.round(rate(r))} proofs/s (${r.requests} in ${r.seconds.toFixed(1)} s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms)`
const load1 = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')

async function measure(
  n: number,
  dbUrl: string,
  dir: string,
  tokens: string[],
  clients: number,
  seconds: number,
): Promise<Figures> {
  const instances = await Promise.all(Array.from({ length: n }, () => startInstance(dbUrl, dir)))
  try {
    const urls = instances.map((i) => i.url)
    const cold = await load(urls, tokens, clients, { once: true })
    // every instance holds every asked proof before the cached pass (each has its own LRU)
    for (let i = 0; i < n; i++) await load([urls[i] as string], tokens, clients, { once: true })
    const loadBefore = load1()
    const cpu0 = instances.map((i) => i.cpuUs())
    const client0 = process.cpuUsage()
    const hot = await load(urls, tokens, clients, { seconds })
    const client = process.cpuUsage(client0)
    const serverUs = instances.reduce((s, i, k) => s + i.cpuUs() - (cpu0[k] as number), 0)
    return {
      cold,
      hot,
      serverUsPerProof: serverUs / hot.requests,
      clientUsPerProof: (client.user + client.system) / hot.requests,
      load: `${loadBefore} → ${load1()}`,
    }
  } finally {
    await Promise.all(instances.map(stopInstance))
  }
}

async function main() {
  const users = Number(process.argv[2] ?? 20000)
  const clients = Number(process.argv[3] ?? 64)
  const seconds = Number(process.argv[4] ?? 8)
  const dir = mkdtempSync(join(tmpdir(), 'reserves-bench-two-'))
  writeFileSync(join(dir, 'key'), KEY_HEX, { mode: 0o600 })
  writeFileSync(join(dir, 'jwt'), SECRET, { mode: 0o600 })
  const t0 = performance.now()
  const db = await prepare(users)
  try {
    const secret = new TextEncoder().encode(SECRET)
    const tokens = Array.from({ length: Math.min(1000, users) }, (_, i) =>
      signToken(secret, { sub: `user-${i}`, role: 'user', ttlSeconds: 3600 }),
    )
    // correctness first: a proof served by `serve` over PostgreSQL verifies
    const probe = await startInstance(db.url, dir)
    const sample = await (
      await fetch(`${probe.url}/v1/snapshots/${SNAPSHOT}/proof`, { headers: { authorization: `Bearer ${tokens[0]}` } })
    ).text()
    await stopInstance(probe)
    const check = verifyProof(JSON.parse(sample))
    if (!check.ok) throw new Error(`a served proof does not verify: ${check.reason}`)
    process.stdout.write(
      `reserves HTTP proofs over PostgreSQL: ${users} users × 3 currencies (1,000 asked), ${clients} keep-alive clients, ` +
        `proof ${sample.length} bytes; ${cpus().length} cores (${cpus()[0]?.model.trim()}), load average ${load1()}\n`,
    )
    const runs: Figures[] = []
    for (const n of [1, 2]) {
      const f = await measure(n, db.url, dir, tokens, clients, seconds)
      runs.push(f)
      process.stdout.write(
        `  ${n} instance${n > 1 ? 's' : ''}:\n` +
          `    cold (database, 1 read per user): ${fmt(f.cold)}\n` +
          `    cached (each instance's LRU):     ${fmt(f.hot)}\n` +
          `    server CPU per cached proof ${f.serverUsPerProof.toFixed(0)} µs (all instances), client CPU ${f.clientUsPerProof.toFixed(0)} µs; load average ${f.load}\n`,
      )
    }
    const [one, two] = runs as [Figures, Figures]
    process.stdout.write(
      `  two / one: cold ${(rate(two.cold) / rate(one.cold)).toFixed(2)}x, cached ${(rate(two.hot) / rate(one.hot)).toFixed(2)}x ` +
        `(whole run ${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
    )
  } finally {
    await db.drop()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
