// The admin console at /console/ in headless Chromium (playwright-core driving Debian's
// /usr/bin/chromium), served by the real reserves service on a real port, with real webhook
// deliveries (a receiver on loopback) and a real reconciliation (off-chain asset sources).
// CAIRN_CONSOLE_SCREENSHOTS=1 writes the screenshots into docs/reserves/console/ (else a temp dir).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@cairn/utils'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_BUILDS, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { CONSOLE_CSP } from '../src/features/console/routes.ts'
import { AUDIT_CSV_COLUMNS } from '../src/features/console/ui/audit-filter.ts'
import { DEFAULT_WEBHOOKS } from '../src/features/webhooks/worker.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import type { AuditEntry } from '../src/kernel/audit.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'
import { type Receiver, startReceiver } from './webhook-receiver.ts'

const CHROMIUM = '/usr/bin/chromium'
const missing = !existsSync(CHROMIUM)
if (missing) console.warn(`skipping the console tests: ${CHROMIUM} is missing (apt-get install chromium)`)

const SHOTS = process.env.CAIRN_CONSOLE_SCREENSHOTS
  ? new URL('../../../docs/reserves/console/', import.meta.url).pathname
  : mkdtempSync(join(tmpdir(), 'cairn-console-'))

const secret = new TextEncoder().encode('console-test-secret-console-test!!')
const ADMIN_KEY = 'admin-key-0123456789abcdef'
/** An auditor's JWT whose subject is markup: the console must show it as text. */
const HOSTILE_SUB = '<img src=x onerror="window.__pwned=1">'
const AUDITOR_JWT = signToken(secret, { sub: HOSTILE_SUB, role: 'auditor', ttlSeconds: 600 })
const SNAPSHOT = '2026-11-q4'
const QUEUED = '2026-12-draft'

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe.skipIf(missing)('the admin console in headless Chromium', { timeout: 120_000 }, () => {
  let db: OpenedSql
  let svc: ReservesService
  let rx: Receiver
  let base: string
  let downId: string
  /** Added to the service's clock (token expiry): a test moves time forward without waiting. */
  let skewMs = 0
  let browser: Browser
  const problems: string[] = []
  const contexts: BrowserContext[] = []

  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await r.text()
    return { status: r.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> }
  }

  /** A fresh tab (its own session storage) on /console, 1280×800. */
  async function open(): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true })
    contexts.push(ctx)
    const page = await ctx.newPage()
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      // refused calls (401/403) are logged by Chromium as failed resources: they are expected here
      if (m.type() === 'error' && !/status of 40[134]/.test(m.text())) problems.push(`console: ${m.text()}`)
    })
    await page.goto(`${base}/console`)
    return page
  }
  async function signIn(page: Page, credential: string) {
    await page.fill('#credential', credential)
    await page.press('#credential', 'Enter')
  }
  /** A service on the test's database; `builds` false: uploads stay queued (no build runner). */
  const make = (builds: boolean) =>
    createReservesService(
      {
        ...DEFAULT_SERVICE_OPTIONS,
        jwtSecret: secret,
        defaultMinDepth: 4,
        apiKeys: [{ name: 'ops-admin', role: 'admin', key: ADMIN_KEY }],
        webhooks: { ...DEFAULT_WEBHOOKS, maxAttempts: 2, backoff: { baseMs: 100, maxMs: 500 }, pollMs: 50 },
        builds: { ...DEFAULT_BUILDS, run: builds },
      },
      { sql: db.sql, key: parseKeyFile('78'.repeat(32)), logger: silentLogger, clockMs: () => Date.now() + skewMs },
    )
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) })

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    db = await openTestSql('pglite')
    rx = await startReceiver((path) => ({ status: path === '/down' ? 500 : 200 }))
    svc = make(true)
    base = await svc.app.listen({ host: '127.0.0.1', port: 0 })

    // reserves: BTC covered, ETH short
    for (const [currency, amount] of [
      ['BTC', '2'],
      ['ETH', '1'],
    ] as const) {
      const r = await api('POST', '/v1/reconciliation/sources', {
        kind: 'offchain',
        currency,
        amount,
        attestedBy: 'Bank X',
        asOf: '2026-11-27T00:00:00Z',
      })
      expect(r.status, JSON.stringify(r.body)).toBe(201)
    }
    const ok = await api('POST', '/v1/webhooks', {
      url: `${rx.url}/ok`,
      events: ['*'],
      description: '<script>window.__pwned=2</script> ledger sync',
    })
    expect(ok.status, JSON.stringify(ok.body)).toBe(201)
    const down = await api('POST', '/v1/webhooks', { url: `${rx.url}/down`, events: ['snapshot.built'] })
    expect(down.status).toBe(201)
    downId = down.body.id as string

    const up = await fetch(`${base}/v1/snapshots?id=${SNAPSHOT}&currencies=BTC:8,ETH:18`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/csv' },
      body: 'userId,BTC,ETH\nalice,150000000,2500000000000000000\nbob,1,2\ncarol,0,5\n',
    })
    expect(up.status).toBe(202)
    await svc.idle()
    const anchored = await api('PUT', `/v1/snapshots/${SNAPSHOT}/anchor`, {
      chainId: 1337,
      txHash: `0x${'ab'.repeat(32)}`,
      blockNumber: 42,
      registry: `0x${'cd'.repeat(20)}`,
    })
    expect(anchored.status).toBe(200)
    await until('the reconciliation after the build', async () => {
      const runs = (await api('GET', '/v1/reconciliations')).body.reconciliations as { state: string }[]
      return runs.some((r) => r.state === 'shortfall')
    })
    await until('a dead letter', async () => {
      const dead = (await api('GET', '/v1/webhooks/dead-letters')).body.deliveries as unknown[]
      return dead.length > 0
    })

    // the same database behind a service that builds nothing: the next upload stays queued, for
    // the console's cancel and retry
    await svc.close()
    svc = make(false)
    base = await svc.app.listen({ host: '127.0.0.1', port: 0 })
    const queued = await fetch(`${base}/v1/snapshots?id=${QUEUED}&currencies=BTC:8`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/csv' },
      body: 'userId,BTC\ndave,7\n',
    })
    expect(queued.status).toBe(202)

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  }, 120_000)
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await svc?.close()
    await db?.close()
    await rx?.close()
    if (!process.env.CAIRN_CONSOLE_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true })
  })

  it('is served with a strict CSP: its own script and stylesheet only', async () => {
    const r = await fetch(`${base}/console/`)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-security-policy')).toBe(CONSOLE_CSP)
    expect(CONSOLE_CSP).not.toContain('unsafe-inline')
    const html = await r.text()
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/)
    expect(html).not.toMatch(/<style|style=/)
    const js = await fetch(`${base}/console/app.js`)
    expect(js.headers.get('content-type')).toMatch(/javascript/)
    expect(await js.text()).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write/)
  })

  it('admin by API key: the snapshot built and anchored, the reserve ratio, webhooks, the audit log exported as CSV', async () => {
    const page = await open()
    expect(page.url()).toBe(`${base}/console/`)
    await page.waitForSelector('#sign-in')
    await shot(page, 'sign-in')
    await signIn(page, ADMIN_KEY)

    // Snapshots: the upload, built ("done"), its totals and anchor; the admin's build column
    await page.waitForSelector('tr.snapshot')
    expect(await page.textContent('#who')).toBe('ops-admin (admin)')
    expect(await page.$$eval('tr.snapshot td:first-child', (t) => t.map((c) => c.textContent))).toEqual([
      QUEUED,
      SNAPSHOT,
    ])
    const row = (await page.textContent('tr.snapshot.s-built')) ?? ''
    expect(row).toContain(SNAPSHOT)
    expect(row).toContain('built')
    expect(row).toContain('BTC 1.50000001')
    expect(row).toContain('ETH 2.500000000000000007')
    expect(row).toContain('chain 1337, block 42')
    expect(row).toContain('done')
    expect(await page.getAttribute('#nav-snapshots', 'aria-current')).toBe('page')
    const pending = 'tr.snapshot.s-building'
    expect(await page.textContent(pending)).toMatch(/building.*queued attempt 0\/3/)
    await shot(page, 'snapshots')
    // cancel the queued build, then retry it: each through the API, each in the audit log
    await page.click(`button[aria-label="Cancel the build of ${QUEUED}"]`)
    await page.waitForSelector(`button[aria-label="Retry the build of ${QUEUED}"]`)
    expect(await page.textContent('tr.snapshot.s-failed')).toMatch(/cancelled by ops-admin.*cancelled attempt 0\/3/)
    await page.click(`button[aria-label="Retry the build of ${QUEUED}"]`)
    await page.waitForSelector(`button[aria-label="Cancel the build of ${QUEUED}"]`)
    expect(await page.textContent(pending)).toContain('queued')
    expect(((await api('GET', `/v1/builds/${QUEUED}`)).body as { state: string }).state).toBe('queued')

    // Reconciliation: ETH short (highlighted, in words), BTC covered
    await page.click('#nav-reconciliation')
    await page.waitForSelector('tr.shortfall')
    expect(await page.$$eval('tr.shortfall td:first-child', (t) => t.map((c) => c.textContent))).toEqual(['ETH'])
    expect(await page.textContent('tr.shortfall')).toContain('⚠ shortfall')
    expect(await page.textContent('tr.covered')).toContain('133.33 %')
    expect(await page.textContent('#view')).toContain('⚠ Shortfall')
    expect(await page.isVisible('text=Reconcile the newest snapshot now')).toBe(true)
    await shot(page, 'reconciliation')

    // Webhooks: both endpoints (the markup in a description shown as text), a dead letter, redelivered
    await page.click('#nav-webhooks')
    await page.waitForSelector('text=Dead letters')
    const endpoints = (await page.textContent('#view table')) ?? ''
    expect(endpoints).toContain(`${rx.url}/ok`)
    expect(endpoints).toContain(`${rx.url}/down`)
    expect(endpoints).toContain('<script>window.__pwned=2</script> ledger sync')
    expect(await page.evaluate('window.__pwned')).toBeUndefined()
    const deadRows = await page.$$('section[aria-labelledby="wh-dead"] tr.delivery')
    expect(deadRows.length).toBeGreaterThan(0)
    // the failing endpoint's own deliveries: dead after its two attempts
    await page.click(`button[aria-label="Show the deliveries of ${downId}"]`)
    await page.waitForSelector(`#wh-deliveries:has-text("${downId}")`)
    expect(await page.textContent('section[aria-labelledby="wh-deliveries"] tr.delivery')).toMatch(/dead\s*2\s*500/)
    await shot(page, 'webhooks')
    const before = rx.on('/down').length
    await page.click('section[aria-labelledby="wh-dead"] tr.delivery button')
    await until('the redelivery reaching the receiver', async () => rx.on('/down').length > before)

    // Audit: the chain verified, a search by action, the matches exported as CSV
    await page.click('#nav-audit')
    await page.waitForSelector('.chain .ok')
    expect(await page.textContent('.chain')).toMatch(/✓ Hash chain intact: \d+ entries/)
    await page.fill('#audit-action', 'webhook.')
    await page.fill('#audit-actor', 'ops')
    await page.click('button[type=submit]')
    // (a function, not a string: the console's CSP forbids evaluating strings)
    await page.waitForFunction(() => {
      const doc = (
        globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ textContent: string }> } }
      ).document
      const cells = [...doc.querySelectorAll('#view tbody tr td:nth-child(5)')]
      return cells.length > 0 && cells.every((td) => td.textContent.startsWith('webhook.'))
    })
    const log = (await api('GET', '/v1/audit?limit=1000')).body.entries as AuditEntry[]
    const expected = log.filter((e) => e.action.includes('webhook.') && e.actor.includes('ops'))
    expect(expected.map((e) => e.action)).toEqual(
      expect.arrayContaining(['webhook.created', 'webhook.created', 'webhook.redelivered']),
    )
    expect(await page.$$eval('#view tbody tr', (r) => r.length)).toBe(expected.length)
    await shot(page, 'audit')
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#audit-csv')])
    expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/)
    const csv = readFileSync((await download.path())!, 'utf8')
    const lines = csv.trimEnd().split('\r\n')
    expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(','))
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(expected.map((e) => String(e.seq)))
    for (const [i, e] of expected.entries()) {
      expect(lines[i + 1]).toContain(`,ops-admin,admin,${e.action},`)
      // details as JSON in one quoted cell, its quotes doubled
      expect(lines[i + 1]).toContain(`"${JSON.stringify(e.details).replace(/"/g, '""')}"`)
      expect(lines[i + 1]!.endsWith(e.hash)).toBe(true)
    }
    await page.waitForSelector('text=/Exported \\d+ entries as CSV/')
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('#audit-json')])
    const exported = JSON.parse(readFileSync((await json.path())!, 'utf8')) as { count: number; entries: AuditEntry[] }
    expect(exported.count).toBe(expected.length)
    expect(exported.entries).toEqual(expected)

    // Users & keys: who this is, and where keys are managed
    await page.click('#nav-access')
    await page.waitForSelector('#keys-config')
    expect(await page.textContent('#me-sub')).toBe('ops-admin')
    expect(await page.textContent('#me-role')).toBe('admin')
    expect(await page.textContent('#keys-config')).toContain('managed in config: --api-keys-file')
    await shot(page, 'access')

    // signing out forgets the credential
    await page.click('#sign-out')
    await page.waitForSelector('#sign-in')
    expect(await page.evaluate('sessionStorage.length')).toBe(0)
    expect(problems).toEqual([])
  })

  it('auditor by JWT: no admin controls, an admin-only view shows the 403 plainly, markup in the subject stays text', async () => {
    const page = await open()
    await signIn(page, AUDITOR_JWT)
    await page.waitForSelector('tr.snapshot')
    expect(await page.textContent('#who')).toBe(`${HOSTILE_SUB} (auditor)`)
    expect(await page.evaluate('window.__pwned')).toBeUndefined()
    expect(await page.$$eval('nav a', (a) => a.map((x) => x.id))).toEqual([
      'nav-snapshots',
      'nav-reconciliation',
      'nav-audit',
      'nav-access',
    ])
    expect(await page.$$('tr.snapshot button')).toHaveLength(0)
    expect(await page.textContent('#view')).toContain('Build controls need the admin role.')
    await page.click('#nav-reconciliation')
    await page.waitForSelector('tr.shortfall')
    expect(await page.isVisible('text=Reconcile the newest snapshot now')).toBe(false)

    // the webhooks view is not offered; asked for anyway, the API's 403 is what shows
    await page.evaluate("location.hash = '#webhooks'")
    await page.waitForSelector('#view [role=alert]')
    expect(await page.textContent('#view [role=alert]')).toBe('Forbidden: role auditor may not do this (needs admin)')
    await shot(page, 'forbidden')
    expect(problems).toEqual([])
  })

  it('a wrong key: "Unauthorized" on the sign-in form and nothing else', async () => {
    const page = await open()
    await signIn(page, 'not-a-key-0123456789abcdef')
    await page.waitForSelector('#sign-in-error')
    expect(await page.textContent('#sign-in-error')).toBe('Unauthorized: unknown API key')
    expect(await page.$$eval('#app > *', (c) => c.map((e) => e.id))).toEqual(['sign-in'])
    expect(await page.$('nav')).toBeNull()
    expect(await page.$('table')).toBeNull()
    expect(await page.evaluate('sessionStorage.length')).toBe(0)
    expect(problems).toEqual([])
  })

  it('a JWT that expires while in use: the next call returns to the sign-in form', async () => {
    const page = await open()
    await signIn(page, signToken(secret, { sub: 'short-lived', role: 'auditor', ttlSeconds: 60 }))
    await page.waitForSelector('tr.snapshot')
    skewMs = 61_000
    try {
      await page.click('#nav-audit')
      await page.waitForSelector('#sign-in-error')
    } finally {
      skewMs = 0
    }
    expect(await page.textContent('#sign-in-error')).toBe('Unauthorized: JWT expired — sign in again')
    expect(await page.$('nav')).toBeNull()
    expect(await page.evaluate('sessionStorage.length')).toBe(0)
    expect(problems).toEqual([])
  })
})
