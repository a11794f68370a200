// Both SDKs against the real service: `cairn reserves serve` as a process (PGlite in a fresh
// datadir); the TypeScript client uploads a snapshot as an admin (API key) and a user fetches and
// verifies their proof (JWT); then the Python SDK's tests run against the same service.
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { openApiDocument } from '@cairn/reserves-service'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isReservesApiError, ReservesClient } from '../src/index.ts'

const CAIRN_BIN = fileURLToPath(new URL('../../node/bin/cairn.js', import.meta.url))
const PYTHON_DIR = fileURLToPath(new URL('../python', import.meta.url))
const SDK_ENTRY = fileURLToPath(new URL('../src/index.ts', import.meta.url))
const ADMIN_KEY = 'k-admin-0123456789abcdef'
const SECRET = 'a-long-random-secret-for-the-sdk-e2e-test'
const SNAPSHOT = 'sdk-e2e'

/** Checks a real answer against its schema in the OpenAPI document (the one the SDK's types come from). */
const ajv = new Ajv2020({ strict: false, allErrors: true })
ajv.addSchema({ $id: 'reserves', ...openApiDocument() })
function conforms(schema: string, value: unknown): void {
  const validate = ajv.getSchema(`reserves#/components/schemas/${schema}`)
  if (!validate) throw new Error(`no schema ${schema}`)
  expect(validate(value) ? [] : validate.errors, `${schema}: ${JSON.stringify(value).slice(0, 200)}`).toEqual([])
}

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' })
const hasPython = python.status === 0

/** An HS256 JWT as `cairn reserves token` mints it (sub, role, iat, exp). */
function token(sub: string, role: 'admin' | 'auditor' | 'user'): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const iat = Math.floor(Date.now() / 1000)
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, role, iat, exp: iat + 300 })}`
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`
}

/** Runs `cmd` to its end; resolves with its exit code and output. */
function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    child.once('exit', (code) => resolve({ code, out }))
  })
}

const dir = mkdtempSync(join(tmpdir(), 'cairn-reserves-sdk-'))
let serve: ChildProcessByStdio<null, Readable, Readable> | null = null
let url = ''

describe('the SDKs against `cairn reserves serve`', () => {
  beforeAll(async () => {
    writeFileSync(join(dir, 'at-rest.key'), 'ab'.repeat(32), { mode: 0o600 })
    writeFileSync(join(dir, 'jwt.secret'), SECRET, { mode: 0o600 })
    writeFileSync(join(dir, 'keys.json'), JSON.stringify([{ name: 'ops', role: 'admin', key: ADMIN_KEY }]), {
      mode: 0o600,
    })
    const args = ['--datadir', 'svc', '--key-file', 'at-rest.key', '--jwt-secret-file', 'jwt.secret']
    args.push('--api-keys-file', 'keys.json', '--min-depth', '3', '--http.port', '0')
    const child = spawn('node', [CAIRN_BIN, 'reserves', 'serve', ...args], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    serve = child
    let logs = ''
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${logs}`)), 45_000)
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${logs}`)))
      child.stderr.on('data', (d) => {
        logs += d
      })
      child.stdout.on('data', (d) => {
        logs += d
        const m = /"addr":"(http:[^"]+)"/.exec(logs)
        if (m) {
          clearTimeout(timer)
          resolve(m[1] as string)
        }
      })
    })
  }, 60_000)

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      const exited = new Promise((r) => serve?.once('exit', r))
      serve.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it('TypeScript: an admin uploads and lists, a user verifies their proof, errors are typed', async () => {
    const admin = new ReservesClient({ baseUrl: url, apiKey: ADMIN_KEY })
    const accepted = await admin.uploadSnapshot({
      id: SNAPSHOT,
      hash: 'keccak256',
      currencies: [
        { symbol: 'BTC', decimals: 8 },
        { symbol: 'ETH', decimals: 18 },
      ],
      entries: [
        { userId: 'alice', balances: { BTC: '150000000', ETH: '0' } },
        { userId: 'bob', balances: { BTC: '1', ETH: '2000000000000000000' } },
        { userId: 'carol', balances: { BTC: 7, ETH: '5' } },
      ],
    })
    expect(accepted).toEqual({ id: SNAPSHOT, status: 'building' })
    conforms('SnapshotAccepted', accepted)
    const built = await admin.waitForSnapshot(SNAPSHOT, { timeoutMs: 20_000, intervalMs: 100 })
    expect(built).toMatchObject({ status: 'built', userCount: 3, depth: 3, hash: 'keccak256' })
    expect(built.root?.balances).toEqual(['150000008', '2000000000000000005'])
    conforms('Snapshot', built)
    const page = await admin.listSnapshots({ limit: 10 })
    expect(page.items.map((s) => s.id)).toContain(SNAPSHOT)
    conforms('SnapshotPage', page)
    conforms('ProofBatch', await admin.getProofs(SNAPSHOT, ['carol', 'nobody']))
    const again = await admin
      .uploadSnapshotText('userId,BTC\nx,1\n', { id: SNAPSHOT, currencies: 'BTC:8' })
      .catch((e) => e)
    expect(again).toMatchObject({ code: 'RESERVES_SNAPSHOT_EXISTS', status: 409 })
    conforms('ErrorBody', again.body)
    // the next snapshot of the chain, from the changes only
    const next = await admin.nextSnapshot(SNAPSHOT, {
      id: `${SNAPSHOT}-next`,
      changes: [
        { userId: 'alice', balances: { BTC: '1', ETH: '0' } },
        { userId: 'bob', remove: true },
      ],
    })
    expect(next).toEqual({ id: `${SNAPSHOT}-next`, status: 'building', base: SNAPSHOT })
    conforms('NextAccepted', next)
    const nextBuilt = await admin.waitForSnapshot(`${SNAPSHOT}-next`, { timeoutMs: 20_000, intervalMs: 100 })
    expect(nextBuilt).toMatchObject({ base: SNAPSHOT, userCount: 2, depth: 3 })
    expect(nextBuilt.root?.balances).toEqual(['8', '5'])
    conforms('Snapshot', nextBuilt)

    const alice = new ReservesClient({ baseUrl: url, token: token('alice', 'user') })
    const { proof, result, rootSource } = await alice.verifyMyProof(SNAPSHOT)
    expect(result).toMatchObject({ ok: true, computedRoot: built.root?.hash })
    expect(rootSource).toBe('snapshot')
    expect(proof).toMatchObject({ userId: 'alice', balances: { BTC: '150000000', ETH: '0' }, hash: 'keccak256' })
    expect(proof.path).toHaveLength(3)
    conforms('Proof', proof)
    const seen = await alice.getSnapshot(SNAPSHOT)
    expect(seen).not.toHaveProperty('userCount')
    conforms('Snapshot', seen)
    const forbidden = await alice.getUserProof(SNAPSHOT, 'bob').catch((e) => e)
    expect(isReservesApiError(forbidden, 'RESERVES_FORBIDDEN') && forbidden.status).toBe(403)
    await expect(alice.getMyProof('no-such')).rejects.toMatchObject({ code: 'RESERVES_SNAPSHOT_UNKNOWN', status: 404 })
    const anonymous = new ReservesClient({ baseUrl: url })
    await expect(anonymous.getSnapshot(SNAPSHOT)).rejects.toMatchObject({
      code: 'RESERVES_UNAUTHENTICATED',
      status: 401,
    })
  }, 30_000)

  it.skipIf(!hasPython)(
    `Python: the SDK tests pass, the live-service ones included${hasPython ? '' : ' (python3 missing: skipped)'}`,
    async () => {
      const env = {
        ...process.env,
        CAIRN_RESERVES_URL: url,
        CAIRN_RESERVES_TOKEN: token('bob', 'user'),
        CAIRN_RESERVES_SNAPSHOT: SNAPSHOT,
        CAIRN_RESERVES_USER: 'bob',
        PYTHONDONTWRITEBYTECODE: '1',
      }
      const r = await run('python3', ['-m', 'unittest', 'discover', '-s', 'tests', '-v'], { cwd: PYTHON_DIR, env })
      expect(r.out).toMatch(/test_my_proof_verifies_against_the_published_root .* \.\.\. ok/)
      expect(r.out).toMatch(/test_every_invalid_case_fails_with_the_reference_reason .* \.\.\. ok/)
      expect(r.out).not.toMatch(/skipped/)
      expect(r.out).toMatch(/\nOK\n/)
      expect(r.code).toBe(0)
    },
    30_000,
  )

  it('the SDK bundles for browsers (esbuild, platform browser: a Node-only import fails the build)', async () => {
    const out = await build({
      entryPoints: [SDK_ENTRY],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent',
    })
    const js = out.outputFiles[0]?.text ?? ''
    // the client, the error class and the verifier are all in it, and nothing Node's
    for (const name of ['ReservesClient', 'ReservesApiError', 'verifyProof'])
      expect(new RegExp(`\\b${name}\\b`).test(js), name).toBe(true)
    expect(/["']node:/.test(js)).toBe(false)
    expect(js.length).toBeLessThan(60_000)
  })
})

if (!hasPython) console.warn('sdk.e2e: python3 is not installed; the Python SDK part is skipped')
