// The proof-checking page at `/`, in headless Chromium (playwright-core driving Debian's
// /usr/bin/chromium), served by the real reserves service on a real port.
import { existsSync } from 'node:fs'
import { buildTree, proofFor } from '@cairn/reserves'
import { silentLogger } from '@cairn/utils'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import { type OpenedSql, openTestSql } from './service-harness.ts'

const CHROMIUM = '/usr/bin/chromium'
const missing = !existsSync(CHROMIUM)
if (missing) console.warn(`skipping the browser page tests: ${CHROMIUM} is missing (apt-get install chromium)`)

const secret = new TextEncoder().encode('browser-test-secret-browser-test!!')
const auth = (role: 'admin' | 'user', sub: string) => ({
  authorization: `Bearer ${signToken(secret, { sub, role, ttlSeconds: 600 })}`,
})

describe.skipIf(missing)('the proof page in headless Chromium', () => {
  let db: OpenedSql
  let svc: ReservesService
  let base: string
  let browser: Browser
  let page: Page
  const problems: string[] = []
  const proofs: Record<string, unknown> = {}

  beforeAll(async () => {
    db = await openTestSql('pglite')
    svc = createReservesService(
      { ...DEFAULT_SERVICE_OPTIONS, jwtSecret: secret, defaultMinDepth: 4 },
      { sql: db.sql, key: parseKeyFile('56'.repeat(32)), logger: silentLogger },
    )
    base = await svc.app.listen({ host: '127.0.0.1', port: 0 })
    for (const id of ['anchored', 'plain']) {
      const r = await fetch(`${base}/v1/snapshots?id=${id}&currencies=BTC:8,ETH:18`, {
        method: 'POST',
        headers: { ...auth('admin', 'ops'), 'content-type': 'text/csv' },
        body: 'userId,BTC,ETH\nalice,150000000,2500000000000000000\nbob,1,2\ncarol,0,5\n',
      })
      expect(r.status).toBe(202)
    }
    await svc.idle()
    const put = await fetch(`${base}/v1/snapshots/anchored/anchor`, {
      method: 'PUT',
      headers: { ...auth('admin', 'ops'), 'content-type': 'application/json' },
      body: JSON.stringify({
        chainId: 1337,
        txHash: `0x${'ab'.repeat(32)}`,
        blockNumber: 42,
        registry: `0x${'cd'.repeat(20)}`,
      }),
    })
    expect(put.status).toBe(200)
    for (const id of ['anchored', 'plain'])
      proofs[id] = await (await fetch(`${base}/v1/snapshots/${id}/proof`, { headers: auth('user', 'alice') })).json()

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
    page = await browser.newPage()
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('console', (m) => {
      if (m.type() === 'error' && !/404 \(Not Found\)/.test(m.text())) problems.push(`console: ${m.text()}`)
    })
    await page.goto(`${base}/`)
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await svc?.close()
    await db?.close()
  })

  async function check(proof: unknown): Promise<string> {
    await page.fill('#proof', typeof proof === 'string' ? proof : JSON.stringify(proof, null, 2))
    await page.click('#check')
    // the click handler renders synchronously; this guards the first load of page.js
    await page.waitForFunction("(document.getElementById('verdict')?.textContent ?? '').length > 0")
    return (await page.textContent('#verdict')) ?? ''
  }

  it('a real proof from the service verifies: balances shown, the path drawn, the anchored root shown', async () => {
    const proof = proofs.anchored as { root: { hash: string }; path: unknown[] }
    expect(await check(proof)).toMatch(/✓ Verified/)
    expect(await page.getAttribute('#verdict', 'class')).toBe('ok')
    const rows = await page.$$eval('#details table tr', (trs) => trs.map((tr) => tr.textContent))
    expect(rows).toEqual(['currencyyour balancepublished total', 'BTC1.51.50000001', 'ETH2.52.500000000000000007'])
    // one row per level, each with the user's node and its sibling
    expect(await page.$$eval('#path .level', (l) => l.length)).toBe(proof.path.length)
    expect(await page.$$eval('#path .level .node', (n) => n.length)).toBe(2 * proof.path.length)
    await page.waitForSelector('#anchor .anchored')
    const anchor = (await page.textContent('#anchor')) ?? ''
    expect(anchor).toContain('✓ The anchored root and totals are the ones in this proof.')
    expect(anchor).toContain(`anchored root ${proof.root.hash}`)
    expect(anchor).toContain(`registry 0x${'cd'.repeat(20)}`)
    expect(anchor).toContain('block 42')
  }, 60_000)

  it('flags tampered proofs: a balance, a sibling, a root total, and text that is not JSON', async () => {
    const good = proofs.plain as {
      balances: Record<string, string>
      path: { balances: string[] }[]
      root: { balances: string[] }
    }
    const balance = structuredClone(good)
    balance.balances.BTC = '150000001'
    expect(await check(balance)).toMatch(/✗ NOT verified/)
    expect(await page.getAttribute('#verdict', 'class')).toBe('bad')
    const sibling = structuredClone(good)
    sibling.path[1]!.balances[0] = String(BigInt(sibling.path[1]!.balances[0]!) + 1n)
    expect(await check(sibling)).toMatch(/✗ NOT verified/)
    const total = structuredClone(good)
    total.root.balances[1] = '1'
    expect(await check(total)).toMatch(/✗ NOT verified/)
    expect(await check('{"version": 1,')).toMatch(/not valid JSON/)
  }, 60_000)

  it('an unanchored snapshot says so; a valid proof whose root differs from the anchored one is flagged', async () => {
    expect(await check(proofs.plain)).toMatch(/✓ Verified/)
    await page.waitForSelector('#anchor .unanchored')
    expect(await page.textContent('#anchor')).toContain('has not been anchored')

    // a self-consistent proof for snapshot "anchored" but from another tree: verifies alone, not against the anchor
    const tree = buildTree([{ userId: 'alice', balances: [150000000n, 2500000000000000000n] }], {
      hash: 'sha256',
      currencies: [
        { symbol: 'BTC', decimals: 8 },
        { symbol: 'ETH', decimals: 18 },
      ],
      minDepth: 4,
    })
    await check(proofFor(tree, 'anchored', 'alice'))
    await page.waitForSelector('#anchor .anchored.bad')
    expect(await page.textContent('#verdict')).toMatch(/✗ NOT verified: the proof does not match the root anchored/)
    expect(problems).toEqual([])
  }, 60_000)
})
