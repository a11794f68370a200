// The production basics of the reserves service, on real sockets: probes (/health, /ready naming a
// failing check), rate limits per role and per IP (429 + Retry-After; probes never charged), TLS
// with a certificate swapped while running, compression with weak ETags that still revalidate,
// correlation ids; and the build queue's operator side: a failed id uploaded again, a taken id
// refused (409, not 503), a queued build cancelled (rows gone) and retried from its stored input.
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyProof } from '@cairn/reserves/verifier'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_BUILDS, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const secret = new TextEncoder().encode('production-test-secret-production')
const key = parseKeyFile('cd'.repeat(32))
const bearer = (role: 'admin' | 'auditor' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 })}`,
})
const admin = bearer('admin', 'ops')
const dir = mkdtempSync(join(tmpdir(), 'reserves-prod-'))

/** A self-signed certificate for 127.0.0.1 (openssl), as PEM files named `name`.crt / .key. */
function selfSigned(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`)
  const k = join(dir, `${name}.key`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      k,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  )
  return { cert, key: k }
}

/** GET over TLS (the self-signed certificate accepted); the answer and the certificate the server showed. */
function getTls(url: string): Promise<{ status: number; body: string; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false, agent: false }, (res) => {
      const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('reserves production basics', { timeout: 60_000 }, () => {
  let db: OpenedSql
  let svc: ReservesService
  let failReady = false
  beforeAll(async () => {
    db = await openTestSql('pglite')
    svc = createReservesService(
      {
        ...DEFAULT_SERVICE_OPTIONS,
        jwtSecret: secret,
        defaultMinDepth: 3,
        rateLimit: {
          enabled: true,
          windowMs: 60_000,
          perIp: 5,
          perRole: { admin: 1000, auditor: 3, user: 2 },
          onStoreError: 'open',
        },
        compressMinBytes: 1024,
        // an API instance: builds wait in the queue for a worker (so one can be cancelled while queued)
        builds: { ...DEFAULT_BUILDS, run: false },
      },
      {
        sql: db.sql,
        key,
        logger: silentLogger,
        checks: {
          upstream: async () => {
            if (failReady) throw new Error('upstream down')
          },
        },
      },
    )
  })
  afterAll(async () => {
    await svc?.close()
    await db?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('/health answers; /ready runs the checks and names the one failing (503)', async () => {
    const h = await svc.app.inject({ method: 'GET', url: '/health' })
    expect(h.statusCode).toBe(200)
    expect(h.json()).toEqual({ status: 'ok' })
    const r = await svc.app.inject({ method: 'GET', url: '/ready' })
    expect(r.statusCode).toBe(200)
    expect(Object.keys(r.json().checks).sort()).toEqual(['database', 'key', 'queue', 'upstream'])
    failReady = true
    const bad = await svc.app.inject({ method: 'GET', url: '/ready' })
    failReady = false
    expect(bad.statusCode).toBe(503)
    expect(bad.json().checks.upstream).toMatchObject({ ok: false, error: 'upstream down' })
    expect(bad.json().checks.database.ok).toBe(true)
  })

  it('rate limits per role and per IP: 429 with Retry-After; probes are never charged', async () => {
    const carol = bearer('user', 'carol')
    const codes: number[] = []
    for (let i = 0; i < 3; i++)
      codes.push((await svc.app.inject({ method: 'GET', url: '/v1/snapshots', headers: carol })).statusCode)
    expect(codes).toEqual([200, 200, 429])
    const refused = await svc.app.inject({ method: 'GET', url: '/v1/snapshots', headers: carol })
    expect(refused.json().code).toBe('RESERVES_RATE_LIMITED')
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    // another user has a window of their own; an auditor has the auditor limit
    expect(
      (await svc.app.inject({ method: 'GET', url: '/v1/snapshots', headers: bearer('user', 'dave') })).statusCode,
    ).toBe(200)
    // anonymous callers are charged per IP (inject comes from 127.0.0.1); probes are free
    for (let i = 0; i < 20; i++) expect((await svc.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
    const anon: number[] = []
    for (let i = 0; i < 6; i++) anon.push((await svc.app.inject({ method: 'GET', url: '/docs' })).statusCode)
    expect(anon.slice(0, 5).every((c) => c === 200)).toBe(true)
    expect(anon[5]).toBe(429)
    const metrics = (await svc.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/cairn_reserves_rate_limited_total\{caller="user"\} [1-9]/)
    expect(metrics).toMatch(/cairn_reserves_rate_limited_total\{caller="ip"\} [1-9]/)
    expect(metrics).toContain('cairn_reserves_rate_limited_total{caller="auditor"} 0')
  })

  it('compresses large answers with a weak ETag that still revalidates; echoes a sane x-request-id', async () => {
    const r = await svc.app.inject({
      method: 'GET',
      url: '/verifier.js',
      headers: { 'accept-encoding': 'gzip, br', 'x-request-id': 'trace-123' },
      remoteAddress: '10.0.0.9', // its own IP window (the rate-limit test spent 127.0.0.1's)
    })
    expect(r.statusCode).toBe(200)
    expect(r.headers['x-request-id']).toBe('trace-123')
    expect(r.headers['content-encoding']).toBe('br')
    expect(r.headers.vary).toContain('accept-encoding')
    const etag = r.headers.etag as string
    expect(etag).toMatch(/^W\/"/)
    const again = await svc.app.inject({
      method: 'GET',
      url: '/verifier.js',
      headers: { 'if-none-match': etag },
      remoteAddress: '10.0.0.9',
    })
    expect(again.statusCode).toBe(304)
    const plain = await svc.app.inject({ method: 'GET', url: '/verifier.js', remoteAddress: '10.0.0.9' })
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.rawPayload.length).toBeGreaterThan(r.rawPayload.length * 2)
    const { brotliDecompressSync } = await import('node:zlib')
    expect(brotliDecompressSync(r.rawPayload).toString()).toBe(plain.body)
  })

  it('build queue: a taken id is 409; cancel removes a queued build; retry builds it from the stored input', async () => {
    const upload = (body: string, id: string) =>
      svc.app.inject({
        method: 'POST',
        url: `/v1/snapshots?id=${id}&currencies=BTC:8`,
        headers: { ...admin, 'content-type': 'text/csv' },
        payload: body,
      })
    const csv = 'userId,BTC\nalice,5\nbob,7\n'
    expect((await upload(csv, 'q1')).statusCode).toBe(202)
    const taken = await upload(csv, 'q1')
    expect(taken.statusCode).toBe(409)
    expect(taken.json().code).toBe('RESERVES_SNAPSHOT_EXISTS')
    const listed = (await svc.app.inject({ method: 'GET', url: '/v1/builds', headers: admin })).json().builds
    expect(listed).toEqual([expect.objectContaining({ snapshotId: 'q1', state: 'queued', attempts: 0 })])
    const cancelled = await svc.app.inject({ method: 'POST', url: '/v1/builds/q1/cancel', headers: admin })
    expect(cancelled.json()).toMatchObject({ state: 'cancelled', lastError: 'cancelled by ops' })
    expect((await svc.store.get('q1')).status).toBe('failed')
    expect((await svc.app.inject({ method: 'POST', url: '/v1/builds/q1/cancel', headers: admin })).statusCode).toBe(409)
    const retried = await svc.app.inject({ method: 'POST', url: '/v1/builds/q1/retry', headers: admin })
    expect(retried.json()).toMatchObject({ state: 'queued' })
    // a worker instance on the same database builds it
    const worker = createReservesService(
      { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 3 },
      { sql: db.sql, key, logger: silentLogger },
    )
    await worker.idle()
    expect((await svc.store.get('q1')).status).toBe('built')
    const proof = await svc.app.inject({
      method: 'GET',
      url: '/v1/snapshots/q1/proof',
      headers: bearer('user', 'alice'),
    })
    expect(verifyProof(proof.json()).ok).toBe(true)
    expect((await db.sql.query('SELECT count(*)::int AS n FROM reserves_build_input'))[0]!.n).toBe(0)
    // a failed id may be uploaded again (it was 503 "check that the database is reachable")
    await db.sql.query(`UPDATE reserves_snapshots SET status = 'failed' WHERE id = 'q1'`)
    expect((await upload('userId,BTC\ncarol,1\n', 'q1')).statusCode).toBe(202)
    await worker.idle()
    await worker.close()
    expect(await svc.store.userIds('q1')).toEqual(['carol'])
    const audit = (await svc.app.inject({ method: 'GET', url: '/v1/audit?limit=1000', headers: admin })).json().entries
    expect(audit.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['build.cancelled', 'build.retried', 'snapshot.built']),
    )
  })

  it('TLS: serves HTTPS and swaps in a renewed certificate without a restart', async () => {
    const first = selfSigned('first')
    const second = selfSigned('second')
    const tlsDb = await openTestSql('pglite')
    const files = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') }
    const { copyFileSync } = await import('node:fs')
    copyFileSync(first.cert, files.cert)
    copyFileSync(first.key, files.key)
    const tls = createReservesService(
      { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, tls: files, builds: { ...DEFAULT_BUILDS, run: false } },
      { sql: tlsDb.sql, key, logger: silentLogger },
    )
    try {
      await tls.app.listen({ host: '127.0.0.1', port: 0 })
      const url = `https://127.0.0.1:${(tls.app.server.address() as { port: number }).port}`
      const a = await getTls(`${url}/health`)
      expect(a.status).toBe(200)
      expect(a.fingerprint).toBe(new X509Certificate(readFileSync(first.cert)).fingerprint256)
      const hsts = await fetch(url.replace('https', 'http')).catch((e: Error) => e)
      expect(hsts).toBeInstanceOf(Error) // no plain HTTP on a TLS port
      copyFileSync(second.cert, files.cert)
      copyFileSync(second.key, files.key)
      tls.reloadTls()
      const b = await getTls(`${url}/health`)
      expect(b.fingerprint).toBe(new X509Certificate(readFileSync(second.cert)).fingerprint256)
      // a key that does not match is refused and the running certificate stays
      copyFileSync(first.key, files.key)
      expect(() => tls.reloadTls()).toThrow(/private key of the certificate|cannot use/)
      expect((await getTls(`${url}/health`)).fingerprint).toBe(b.fingerprint)
    } finally {
      await tls.close()
      await tlsDb.close()
    }
  })
})
