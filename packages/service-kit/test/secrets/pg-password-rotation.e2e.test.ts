// A database password rotated without a restart: a PostgreSQL cluster of its own (initdb, password
// auth over TCP — the shared test server trusts every login, so it cannot show this), a pool whose
// password is read through Secrets for every new connection; the role's password changes and the
// file is replaced, and the pool's next connection logs in with the new one, the running process
// untouched. The old password no longer logs in.
import { execFileSync } from 'node:child_process'
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { Secrets } from '../../src/index.ts'
import { openPostgres } from '../../src/sql/index.ts'

/** The newest installed PostgreSQL's bin directory with initdb and pg_ctl, or null. */
function pgBin(): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const bins = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(root, v, 'bin'))
  return bins.find((b) => existsSync(join(b, 'initdb')) && existsSync(join(b, 'pg_ctl'))) ?? null
}

const BIN = pgBin()
let uid = -1
let gid = -1
try {
  uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim())
  gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim())
} catch {}
const skip = !BIN
  ? 'no initdb/pg_ctl under /usr/lib/postgresql/*/bin'
  : process.getuid?.() !== 0
    ? 'not root: the cluster runs as the postgres user (runuser)'
    : uid < 0
      ? 'no postgres user'
      : null
if (skip) console.warn(`skipping the database password rotation test: ${skip}`)

const asPostgres = (tool: string, args: string[]) =>
  execFileSync('runuser', ['-u', 'postgres', '--', join(BIN as string, tool), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  })

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

describe.skipIf(skip)('a database password rotated without a restart (Secrets → pg pool)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pg-rotate-'))
  const data = join(dir, 'data')
  let started = false
  afterAll(() => {
    if (started)
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
      } catch {}
    rmSync(dir, { recursive: true, force: true })
  })

  it('logs the next connection in with the new password; the old one is refused', async () => {
    chownSync(dir, uid, gid)
    const port = await freePort()
    asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync'])
    appendFileSync(
      join(data, 'postgresql.conf'),
      `port = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nfsync = off\n`,
    )
    asPostgres('pg_ctl', ['-D', data, '-l', join(dir, 'pg.log'), '-w', '-t', '90', 'start'])
    started = true
    // the administrator: over the Unix socket (trust), as the postgres user
    const admin = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' })
    await admin.connect()
    try {
      await admin.query("CREATE ROLE app LOGIN PASSWORD 'first-password-0123'")
      const file = join(dir, 'db.password')
      const replace = (pw: string) => {
        writeFileSync(`${file}.tmp`, `${pw}\n`, { mode: 0o600 })
        renameSync(`${file}.tmp`, file)
      }
      replace('first-password-0123')
      const secrets = new Secrets()
      const sql = await openPostgres(`postgres://app@127.0.0.1:${port}/postgres`, {
        max: 1,
        password: () => secrets.readText(file, '--database-password-file'),
      })
      try {
        const backend = async () => (await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid
        const first = await backend()

        // rotate: the role's password, then the secret (as a manager would: both, in that order)
        await admin.query("ALTER ROLE app PASSWORD 'second-password-4567'")
        replace('second-password-4567')
        // the open connection keeps going; once it is gone the pool logs in again, with the new password
        expect(await backend()).toBe(first)
        await admin.query('SELECT pg_terminate_backend($1)', [first])
        let second = first
        for (let i = 0; i < 20 && second === first; i++) second = await backend().catch(() => first)
        expect(second).not.toBe(first)

        // the old password no longer logs in
        const old = new pg.Client({ connectionString: `postgres://app:first-password-0123@127.0.0.1:${port}/postgres` })
        await expect(old.connect()).rejects.toThrow(/password authentication failed for user "app"/)
        await old.end().catch(() => {})
      } finally {
        await sql.close()
      }
    } finally {
      await admin.end()
    }
  }, 120_000)
})
