import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { VECTORS_FILE } from '../scripts/gen-invalid-vectors.ts'
import { type DeprecationNotice, type Proof, ReservesApiError, ReservesClient, type Snapshot } from '../src/index.ts'

const vectors = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as {
  snapshots: { snapshotId: string; root: { hash: string; balances: string[] }; proofs: Proof[] }[]
}
const vs = vectors.snapshots[0]!

interface Seen {
  method: string
  url: string
  headers: Record<string, string>
  body: string | undefined
}

/** A fetch answering from `routes` (`METHOD /path?query` → [status, body, headers]); records every request. */
function fakeFetch(routes: Record<string, [number, unknown, Record<string, string>?]>) {
  const seen: Seen[] = []
  const fn = (async (input: URL | string, init?: RequestInit) => {
    const url = new URL(String(input))
    const method = init?.method ?? 'GET'
    seen.push({
      method,
      url: url.pathname + url.search,
      headers: init?.headers as Record<string, string>,
      body: init?.body as string | undefined,
    })
    const hit = routes[`${method} ${url.pathname}${url.search}`]
    if (!hit) return new Response(JSON.stringify({ code: 'NOT_IN_FAKE', message: url.pathname }), { status: 599 })
    const [status, body, headers] = hit
    const text = typeof body === 'string' ? body : JSON.stringify(body)
    return new Response(text, { status, headers: { 'content-type': 'application/json', ...headers } })
  }) as typeof fetch
  return { fn, seen }
}

const snapshot = (over: Partial<Snapshot> = {}): Snapshot => ({
  id: vs.snapshotId,
  status: 'built',
  hash: 'sha256',
  currencies: vs.proofs[0]!.currencies,
  root: vs.root,
  error: null,
  anchor: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  builtAt: '2026-01-01T00:00:01.000Z',
  ...over,
})

describe('ReservesClient', () => {
  it('builds each typed route: path parameters escaped, query, JSON body, credentials', async () => {
    const f = fakeFetch({
      'GET /v1/snapshots?limit=5&cursor=12': [200, { items: [], next: null }],
      'GET /v1/snapshots/a%2Fb%20c/proofs/bob%40x.io': [200, vs.proofs[0]],
      'POST /v1/snapshots/d1/proofs/batch': [200, { proofs: [], missing: ['z'] }],
      'POST /v1/snapshots?id=d2&currencies=BTC%3A8': [202, { id: 'd2', status: 'building' }],
      'POST /v1/snapshots': [202, { id: 'd3', status: 'building' }],
    })
    const c = new ReservesClient({ baseUrl: 'http://svc.test/', token: async () => 'tok', apiKey: 'k', fetch: f.fn })
    expect(await c.listSnapshots({ limit: 5, cursor: '12' })).toEqual({ items: [], next: null })
    expect((await c.getUserProof('a/b c', 'bob@x.io')).userId).toBe(vs.proofs[0]!.userId)
    expect(await c.getProofs('d1', ['z'])).toEqual({ proofs: [], missing: ['z'] })
    expect(await c.uploadSnapshotText('userId,BTC\na,1\n', { id: 'd2', currencies: 'BTC:8' })).toEqual({
      id: 'd2',
      status: 'building',
    })
    const upload = { currencies: [{ symbol: 'BTC', decimals: 8 }], entries: [{ userId: 'a', balances: { BTC: '1' } }] }
    expect((await c.uploadSnapshot(upload)).id).toBe('d3')
    expect(f.seen[0]!.headers).toMatchObject({
      authorization: 'Bearer tok',
      'x-api-key': 'k',
      accept: 'application/json',
    })
    expect(f.seen[2]).toMatchObject({ method: 'POST', body: '{"userIds":["z"]}' })
    expect(f.seen[2]!.headers['content-type']).toBe('application/json')
    expect(f.seen[3]!.headers['content-type']).toBe('text/csv')
    expect(JSON.parse(f.seen[4]!.body!)).toEqual(upload)
  })

  it("turns an error answer into ReservesApiError with the service's code, status, hint and request id", async () => {
    const f = fakeFetch({
      'GET /v1/snapshots/nope': [
        404,
        { code: 'RESERVES_SNAPSHOT_UNKNOWN', message: 'snapshot nope does not exist' },
        { 'x-request-id': 'r-1' },
      ],
      'GET /v1/snapshots/busy/proof': [
        429,
        { code: 'RESERVES_RATE_LIMITED', message: 'too many requests', hint: 'slow down: retry after 3 s' },
      ],
      'GET /v1/snapshots/proxy': [502, '<html>bad gateway</html>'],
    })
    const c = new ReservesClient({ baseUrl: 'http://svc.test', fetch: f.fn })
    const e = await c.getSnapshot('nope').catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ReservesApiError)
    expect(e).toMatchObject({ code: 'RESERVES_SNAPSHOT_UNKNOWN', status: 404, requestId: 'r-1', transient: false })
    expect((e as ReservesApiError).body).toEqual({
      code: 'RESERVES_SNAPSHOT_UNKNOWN',
      message: 'snapshot nope does not exist',
    })
    await expect(c.getMyProof('busy')).rejects.toMatchObject({
      code: 'RESERVES_RATE_LIMITED',
      status: 429,
      hint: 'slow down: retry after 3 s',
      transient: true,
    })
    await expect(c.getSnapshot('proxy')).rejects.toMatchObject({ code: 'SDK_BAD_RESPONSE', status: 502 })
  })

  it('a fetch that throws (no service) is SDK_NETWORK with status 0, transient', async () => {
    const down = (async () => {
      throw new TypeError('fetch failed')
    }) as typeof fetch
    const c = new ReservesClient({ baseUrl: 'http://svc.test', fetch: down })
    await expect(c.getSnapshot('x')).rejects.toMatchObject({ code: 'SDK_NETWORK', status: 0, transient: true })
  })

  it('tells of a deprecated route once per operation, with its Deprecation, Sunset and Link headers', async () => {
    const headers = {
      deprecation: '@1767225600',
      sunset: 'Wed, 01 Jul 2026 00:00:00 GMT',
      link: '<https://docs.example/v2>; rel="successor-version"',
    }
    const f = fakeFetch({ 'GET /v1/snapshots/old': [200, snapshot(), headers] })
    const notices: DeprecationNotice[] = []
    const c = new ReservesClient({ baseUrl: 'http://svc.test', fetch: f.fn, onDeprecated: (n) => notices.push(n) })
    await c.getSnapshot('old')
    await c.getSnapshot('old')
    expect(notices).toEqual([{ operation: 'GET /v1/snapshots/{id}', ...headers }])
  })

  it("verifyMyProof checks the proof here, against the given root, else the anchor's, else the snapshot's", async () => {
    const proof = vs.proofs[1]!
    const anchored = snapshot({ anchor: { chainId: 1, txHash: `0x${'1'.repeat(64)}`, blockNumber: 5 } })
    const routes: Record<string, [number, unknown]> = {
      [`GET /v1/snapshots/${vs.snapshotId}/proof`]: [200, proof],
      [`GET /v1/snapshots/${vs.snapshotId}`]: [200, snapshot()],
    }
    const c = (r: typeof routes) => new ReservesClient({ baseUrl: 'http://svc.test', fetch: fakeFetch(r).fn })
    const bySnapshot = await c(routes).verifyMyProof(vs.snapshotId)
    expect(bySnapshot).toMatchObject({ rootSource: 'snapshot', result: { ok: true }, proof })
    const otherRoot = `0x${'ab'.repeat(32)}`
    const given = await c(routes).verifyMyProof(vs.snapshotId, { expectedRoot: otherRoot })
    expect(given.rootSource).toBe('given')
    expect(given.result.reason).toBe(`the root ${vs.root.hash} is not the expected ${otherRoot}`)
    // an anchor that disagrees with the service's snapshot root wins, and the proof fails against it
    const byAnchor = await c({
      ...routes,
      [`GET /v1/snapshots/${vs.snapshotId}`]: [200, anchored],
      [`GET /v1/snapshots/${vs.snapshotId}/anchor`]: [200, { root: { hash: otherRoot, balances: [] } }],
    }).verifyMyProof(vs.snapshotId)
    expect(byAnchor).toMatchObject({ rootSource: 'anchor', result: { ok: false } })
    // a tampered proof fails whatever the root
    const tampered = structuredClone(proof)
    tampered.balances.BTC = String(BigInt(tampered.balances.BTC!) + 1n)
    const bad = await c({ ...routes, [`GET /v1/snapshots/${vs.snapshotId}/proof`]: [200, tampered] }).verifyMyProof(
      vs.snapshotId,
    )
    expect(bad.result.reason).toMatch(/^the path folds to 0x[0-9a-f]{64}, not the root /)
  })

  it('waitForSnapshot polls until built, and reports a failed build or a timeout', async () => {
    let t = 0
    const states = ['building', 'building', 'built'] as const
    let i = 0
    const poll = (async () =>
      new Response(JSON.stringify(snapshot({ status: states[Math.min(i++, 2)]! })), {
        status: 200,
      })) as typeof fetch
    const clock = {
      sleep: async (ms: number) => {
        t += ms
      },
      now: () => t,
    }
    const c = new ReservesClient({ baseUrl: 'http://svc.test', fetch: poll, ...clock })
    expect((await c.waitForSnapshot('s', { intervalMs: 100 })).status).toBe('built')
    expect(t).toBe(200)
    const failed = fakeFetch({ 'GET /v1/snapshots/f': [200, snapshot({ status: 'failed', error: 'cancelled' })] })
    await expect(
      new ReservesClient({ baseUrl: 'http://svc.test', fetch: failed.fn, ...clock }).waitForSnapshot('f'),
    ).rejects.toMatchObject({ code: 'SDK_SNAPSHOT_FAILED', message: 'snapshot f failed: cancelled' })
    const stuck = fakeFetch({ 'GET /v1/snapshots/b': [200, snapshot({ status: 'building' })] })
    t = 0
    await expect(
      new ReservesClient({ baseUrl: 'http://svc.test', fetch: stuck.fn, ...clock }).waitForSnapshot('b', {
        timeoutMs: 1_000,
        intervalMs: 300,
      }),
    ).rejects.toMatchObject({ code: 'SDK_TIMEOUT' })
    expect(stuck.seen).toHaveLength(5)
  })

  it('the generic call() is typed by the operation key', async () => {
    const f = fakeFetch({ 'GET /v1/snapshots/x/leaves?offset=4&limit=2': [200, { total: 8, leaves: [] }] })
    const c = new ReservesClient({ baseUrl: 'http://svc.test', fetch: f.fn })
    const page = await c.call('GET /v1/snapshots/{id}/leaves', { path: { id: 'x' }, query: { offset: 4, limit: 2 } })
    expect(page.total).toBe(8)
  })
})
