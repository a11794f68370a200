// HTTP proof-serving benchmark: the real reserves service (PGlite in memory) in a child process,
// N keep-alive clients in this one, each user fetching their own proof (GET /v1/snapshots/:id/proof
// with an HS256 bearer token, as the page and apps do). Prints the cold (database) and the cached
// rate measured in the same run, and their ratio.
//
//   node --import tsx packages/reserves-service/bench/http.ts [users=20000] [clients=64] [seconds=10]
// The tree holds `users` users; requests go to 1,000 of them: the cold pass reads each once from the
// database, the cached pass then cycles over the same users (every proof in the memory LRU).
import { type ChildProcess, spawn } from 'node:child_process'
import { Agent, request } from 'node:http'
import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { signToken } from '../src/kernel/auth.ts'

const SECRET = 'bench-http-secret-bench-http-secret'
const SNAPSHOT = 'bench'

async function serve(users: number): Promise<void> {
  const { createReservesService, DEFAULT_SERVICE_OPTIONS } = await import('../src/app.ts')
  const { parseKeyFile } = await import('../src/kernel/at-rest.ts')
  const { migrate } = await import('../src/schema.ts')
  const { openPglite } = await import('../src/kernel/sql-pglite.ts')
  const sql = await openPglite(null)
  await migrate(sql)
  const secret = new TextEncoder().encode(SECRET)
  const svc = createReservesService(
    { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 10, proofCacheSize: users + 1000 },
    { sql, key: parseKeyFile('77'.repeat(32)), logger: silentLogger },
  )
  // the server's own CPU time, so the figure can be read per core on a shared machine
  svc.app.get('/bench/cpu', async () => process.cpuUsage())
  const lines = ['userId,BTC,ETH,USDT']
  for (let i = 0; i < users; i++) lines.push(`user-${i},${i * 1000 + 1},${i},${i * 7}`)
  const admin = signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 3600 })
  const r = await svc.app.inject({
    method: 'POST',
    url: `/v1/snapshots?id=${SNAPSHOT}&currencies=BTC:8,ETH:18,USDT:6`,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
    payload: `${lines.join('\n')}\n`,
  })
  if (r.statusCode !== 202) throw new Error(`snapshot refused: ${r.body}`)
  await svc.idle()
  const url = await svc.app.listen({ host: '127.0.0.1', port: 0 })
  process.stdout.write(`READY ${url}\n`)
  process.once('SIGTERM', () => void svc.close().then(() => process.exit(0)))
}

interface Run {
  requests: number
  seconds: number
  p50: number
  p99: number
}

/** `clients` loops, each sending its next request when the last answered, over keep-alive sockets. */
async function load(
  url: string,
  tokens: string[],
  clients: number,
  o: { seconds?: number; once?: boolean },
): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients })
  const { hostname, port } = new URL(url)
  const latencies: number[] = []
  let next = 0
  let requests = 0
  const started = performance.now()
  const deadline = started + (o.seconds ?? 0) * 1000
  const get = (token: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request(
        {
          agent,
          hostname,
          port,
          path: `/v1/snapshots/${SNAPSHOT}/proof`,
          headers: { authorization: `Bearer ${token}` },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(Buffer.concat(chunks).toString())
              : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks)}`)),
          )
        },
      )
      req.on('error', reject)
      req.end()
    })
  const loop = async () => {
    for (;;) {
      if (o.once ? next >= tokens.length : performance.now() >= deadline) return
      const t0 = performance.now()
      await get(tokens[next++ % tokens.length] as string)
      latencies.push(performance.now() - t0)
      requests++
    }
  }
  await Promise.all(Array.from({ length: clients }, loop))
  const seconds = (performance.now() - started) / 1000
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0
  return { requests, seconds, p50: q(0.5), p99: q(0.99) }
}

async function main() {
  if (process.argv[2] === '--serve') return serve(Number(process.argv[3]))
  const users = Number(process.argv[2] ?? 20000)
  const clients = Number(process.argv[3] ?? 64)
  const seconds = Number(process.argv[4] ?? 10)
  const child: ChildProcess = spawn(
    process.execPath,
    [...process.execArgv, new URL(import.meta.url).pathname, '--serve', String(users)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
      child.stdout?.on('data', (d) => {
        out += d
        const m = /READY (\S+)/.exec(out)
        if (m) resolve(m[1] as string)
      })
    })
    const secret = new TextEncoder().encode(SECRET)
    const tokens = Array.from({ length: users }, (_, i) =>
      signToken(secret, { sub: `user-${i}`, role: 'user', ttlSeconds: 3600 }),
    )
    const fmt = (r: Run) =>
      `${Math.round(r.requests / r.seconds)} proofs/s (${r.requests} in ${r.seconds.toFixed(1)} s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms)`
    // correctness first: a served proof verifies
    const sample = await new Promise<string>((resolve, reject) => {
      request(`${url}/v1/snapshots/${SNAPSHOT}/proof`, { headers: { authorization: `Bearer ${tokens[0]}` } }, (res) => {
        let b = ''
        res.on('data', (c) => {
          b += c
        })
        res.on('end', () => resolve(b))
      })
        .on('error', reject)
        .end()
    })
    const check = verifyProof(JSON.parse(sample))
    if (!check.ok) throw new Error(`a served proof does not verify: ${check.reason}`)
    process.stdout.write(
      `reserves HTTP proofs: ${users} users × 3 currencies, ${clients} keep-alive clients, proof ${sample.length} bytes\n`,
    )
    const asked = tokens.slice(0, Math.min(1000, users))
    const cold = await load(url, asked, clients, { once: true })
    process.stdout.write(`  cold (database, 1 read per user): ${fmt(cold)}\n`)
    const cpu = async () => {
      const r = (await (await fetch(`${url}/bench/cpu`)).json()) as { user: number; system: number }
      return r.user + r.system
    }
    const cpu0 = await cpu()
    const hot = await load(url, asked, clients, { seconds })
    const cpuUs = ((await cpu()) - cpu0) / hot.requests
    process.stdout.write(`  cached (memory LRU):              ${fmt(hot)}\n`)
    process.stdout.write(
      `  server CPU per cached proof: ${cpuUs.toFixed(0)} µs → ${Math.round(1e6 / cpuUs)} proofs/s per core the server has to itself\n`,
    )
    const ratio = hot.requests / hot.seconds / (cold.requests / cold.seconds)
    process.stdout.write(`  cached / cold: ${ratio.toFixed(1)}x; target ≥ 5000 proofs/s from cache\n`)
  } finally {
    child.kill('SIGTERM')
  }
}

await main()
