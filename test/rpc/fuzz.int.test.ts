// Property: whatever is POSTed, the server answers with well-formed JSON-RPC 2.0 (or an empty body
// when every request was a notification), never an internal error, and keeps serving afterwards.
// Its own node: random requests must not disturb the other tests' chain.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, result, type StartedNode, startDevNode } from './live-node.ts'

let node: StartedNode
let url: string

beforeAll(async () => {
  node = await startDevNode()
  url = node.url
})
afterAll(async () => {
  await node?.close()
})

// Methods that read, or fail on random input without changing the chain (no sends, no evm_*).
const METHODS = [
  'eth_blockNumber',
  'eth_chainId',
  'eth_getBalance',
  'eth_getCode',
  'eth_getStorageAt',
  'eth_getTransactionCount',
  'eth_getBlockByNumber',
  'eth_getBlockByHash',
  'eth_getTransactionByHash',
  'eth_getTransactionReceipt',
  'eth_getBlockReceipts',
  'eth_getLogs',
  'eth_call',
  'eth_estimateGas',
  'eth_feeHistory',
  'eth_gasPrice',
  'eth_accounts',
  'eth_subscribe',
  'eth_unsubscribe',
  'web3_sha3',
  'web3_clientVersion',
  'net_version',
  'debug_getRawBlock',
]

const hexish = fc.oneof(
  fc.constantFrom('latest', 'earliest', 'pending', 'safe', 'finalized', '0x', '0x0', '0x00', '0x1', '0xzz'),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFx'.split('')), maxLength: 70 }).map((s) => `0x${s}`),
  fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }).map((n) => `0x${n.toString(16)}`),
)
const param = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hexish,
  fc.record({ to: hexish, data: hexish, from: hexish, value: hexish }, { requiredKeys: [] }),
  fc.record(
    { fromBlock: hexish, toBlock: hexish, address: hexish, topics: fc.array(hexish, { maxLength: 5 }) },
    { requiredKeys: [] },
  ),
)

/** Something shaped like a request, right or wrong in any field. */
const requestLike = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('2.0'), fc.constantFrom('1.0', 2, null)),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.boolean(), fc.double(), fc.object()),
    method: fc.oneof(
      fc.constantFrom(...METHODS),
      fc.constantFrom(...METHODS),
      fc.string({ maxLength: 20 }),
      fc.integer(),
    ),
    params: fc.oneof(fc.array(param, { maxLength: 4 }), param),
  },
  { requiredKeys: [] },
)

/** Any body: JSON text of anything, a request, a batch, or arbitrary (even non-UTF-8-clean) strings. */
const body = fc.oneof(
  { weight: 3, arbitrary: requestLike.map((r) => JSON.stringify(r)) },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(requestLike, fc.jsonValue({ maxDepth: 2 })), { maxLength: 6 })
      .map((b) => JSON.stringify(b)),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: requestLike.map((r) => JSON.stringify(r).slice(0, -1)) }, // truncated
)

const isId = (v: unknown) => typeof v === 'string' || typeof v === 'number' || v === null

/** A request the server must not answer: a valid envelope without an id. */
function isNotification(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const r = v as Record<string, unknown>
  return r.jsonrpc === '2.0' && typeof r.method === 'string' && !('id' in r)
}

/** A request with a valid envelope and id: the response must echo the id. */
function validId(v: unknown): { id: string | number | null } | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  const r = v as Record<string, unknown>
  if (r.jsonrpc === '2.0' && typeof r.method === 'string' && 'id' in r && isId(r.id)) {
    return { id: r.id as string | number | null }
  }
  return undefined
}

function expectWellFormed(res: unknown): void {
  expect(typeof res === 'object' && res !== null && !Array.isArray(res), JSON.stringify(res)).toBe(true)
  const r = res as Record<string, unknown>
  expect(
    Object.keys(r).every((k) => ['jsonrpc', 'id', 'result', 'error'].includes(k)),
    JSON.stringify(r),
  ).toBe(true)
  expect(r.jsonrpc).toBe('2.0')
  expect('id' in r && isId(r.id), JSON.stringify(r)).toBe(true)
  expect('result' in r !== 'error' in r, JSON.stringify(r)).toBe(true)
  if ('error' in r) {
    const e = r.error as Record<string, unknown>
    expect(Number.isInteger(e.code), JSON.stringify(r)).toBe(true)
    expect(typeof e.message === 'string' && e.message.length > 0, JSON.stringify(r)).toBe(true)
    // caller input never makes an internal error (that would be an unhandled exception)
    expect(e.code, JSON.stringify(r)).not.toBe(-32603)
  }
}

describe('property: any POSTed body gets a well-formed JSON-RPC 2.0 answer', () => {
  it('and the server keeps answering eth_blockNumber', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text })
        expect(res.status).toBe(200)
        const answer = await res.text()

        let sent: unknown
        let parsedOk = true
        try {
          sent = JSON.parse(text)
        } catch {
          parsedOk = false
        }
        const silent =
          parsedOk &&
          (isNotification(sent) ||
            (Array.isArray(sent) && sent.length > 0 && sent.length <= 1000 && sent.every(isNotification)))

        if (silent) {
          expect(answer).toBe('')
        } else {
          expect(answer, `no answer to ${text}`).not.toBe('')
          const got = JSON.parse(answer) as unknown
          if (!parsedOk) {
            expectWellFormed(got)
            expect((got as { error: { code: number } }).error.code).toBe(-32700)
          } else if (Array.isArray(sent) && sent.length > 0) {
            expect(Array.isArray(got), answer).toBe(true)
            const answers = got as unknown[]
            answers.forEach(expectWellFormed)
            // one answer per entry that is not a notification, in order; valid ids echoed
            const expected = sent.filter((r) => !isNotification(r))
            expect(answers).toHaveLength(expected.length)
            expected.forEach((req, i) => {
              const want = validId(req)
              if (want) expect((answers[i] as { id: unknown }).id).toEqual(want.id)
            })
          } else {
            expectWellFormed(got)
            const want = validId(sent)
            if (want) expect((got as { id: unknown }).id).toEqual(want.id)
          }
        }

        expect(await result<string>(url, 'eth_blockNumber')).toMatch(/^0x[0-9a-f]+$/)
      }),
      { numRuns: 100 },
    )
  }, 60_000)

  it('after the run the server still serves a plain request and its metrics', async () => {
    expect(await result(url, 'eth_chainId')).toBe('0x539')
    const p = await post(url, { jsonrpc: '2.0', id: 1, method: 'net_version' })
    expect(p.json).toEqual({ jsonrpc: '2.0', id: 1, result: '1337' })
    expect((await fetch(`${url}/metrics`)).status).toBe(200)
  })
})
