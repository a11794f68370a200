// The real `cairn reserves serve` for the service benches (build-stall, incremental-service,
// ledger-freeze-service): a fresh datadir with its at-rest key and JWT secret, PGlite, or
// PostgreSQL with DATABASE_URL, on a random port; an admin token; waits, uploads with curl (another
// process: a large body sent from the bench's own loop would stall the probes it times), and stops
// the service and removes the datadir when the bench ends.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signToken } from '../src/kernel/auth.ts'

const CAIRN = new URL('../../node/bin/cairn.js', import.meta.url).pathname

export interface BenchServiceOptions {
  /** The temporary directory's prefix and the default log's name. */
  name: string
  /** Where the service's log goes: a file (JSON lines; default in the temp dir), or discarded. */
  log: 'file' | 'ignore'
  /** Extra flags for the service's node (`--cpu-prof …`). */
  nodeArgs?: string[]
}

export interface BenchService {
  /** `http://127.0.0.1:PORT` */
  base: string
  /** The bench's temporary directory (bodies go here too). */
  dir: string
  /** The service log's path, when logged to a file. */
  logFile: string | null
  /** An admin's `authorization` header. */
  authorization: string
  /** The database it runs on, for the figures' line. */
  database: 'PostgreSQL' | 'PGlite'
  /** Resolves once the service answers (at most 3 minutes). */
  ready(): Promise<void>
  /** Resolves once snapshot `id` is built; throws if its build failed. */
  built(id: string): Promise<void>
  /** POSTs `file` to `path` with curl; the HTTP status. */
  upload(path: string, file: string, type: string): Promise<string>
  /** Runs the bench's `main`, then stops the service and removes the directory; a failure exits 1. */
  run(main: () => Promise<void>): void
}

export function startBenchService(o: BenchServiceOptions): BenchService {
  const dir = mkdtempSync(join(tmpdir(), `reserves-${o.name}-`))
  const secret = `${o.name}-bench-secret-`.padEnd(32, 'x')
  writeFileSync(join(dir, 'jwt.secret'), secret)
  writeFileSync(join(dir, 'at-rest.key'), '5a'.repeat(32))
  const port = 20000 + Math.floor(Math.random() * 20000)
  const args = [CAIRN, 'reserves', 'serve', '--datadir', join(dir, 'data'), '--key-file', join(dir, 'at-rest.key')]
  args.push('--jwt-secret-file', join(dir, 'jwt.secret'), '--http.port', String(port), '--min-depth', '4')
  if (process.env.DATABASE_URL) args.push('--database-url', process.env.DATABASE_URL)
  const logFile = o.log === 'file' ? (process.env.SERVICE_LOG ?? join(tmpdir(), `reserves-${o.name}.log`)) : null
  const child: ChildProcess = spawn('node', [...(o.nodeArgs ?? []), ...args], {
    stdio: ['ignore', logFile ? openSync(logFile, 'w') : 'ignore', 'inherit'],
  })
  const base = `http://127.0.0.1:${port}`
  const authorization = `Bearer ${signToken(new TextEncoder().encode(secret), { sub: 'ops', role: 'admin', ttlSeconds: 7200 })}`
  return {
    base,
    dir,
    logFile,
    authorization,
    database: process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite',
    async ready() {
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`${base}/docs`)).ok) return
        } catch {}
        if (i > 1800) throw new Error('service did not start')
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async built(id) {
      for (;;) {
        const r = await fetch(`${base}/v1/snapshots/${id}`, { headers: { authorization } })
        const s = (await r.json()) as { status: string; error: string | null }
        if (s.status !== 'building') {
          if (s.status !== 'built') throw new Error(`build ${id} ${s.status}: ${s.error}`)
          return
        }
        await new Promise((r) => setTimeout(r, 50))
      }
    },
    upload(path, file, type) {
      return new Promise((resolve, reject) => {
        const p = spawn('curl', [
          '-sS',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '-H',
          `authorization: ${authorization}`,
          '-H',
          `content-type: ${type}`,
          '--data-binary',
          `@${file}`,
          `${base}${path}`,
        ])
        let out = ''
        p.stdout.on('data', (d) => {
          out += String(d)
        })
        p.once('error', reject)
        p.once('exit', () => resolve(out))
      })
    },
    run(main) {
      main()
        .catch((err) => {
          process.stderr.write(`${(err as Error).stack}\n`)
          process.exitCode = 1
        })
        .finally(() => {
          child.kill('SIGTERM')
          child.once('exit', () => rmSync(dir, { recursive: true, force: true }))
        })
    },
  }
}

/** `users` users as CSV (`userId,BTC,ETH`), written to `file`. */
export function writeUsersCsv(file: string, users: number): void {
  const lines = ['userId,BTC,ETH']
  for (let i = 0; i < users; i++) lines.push(`user-${i},${i + 1},${i * 3}`)
  writeFileSync(file, `${lines.join('\n')}\n`)
}
