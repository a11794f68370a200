// Every request costs its caller something, whatever becomes of it: bodies that do not parse,
// entries without a method and requests refused for their credentials are charged too, so guessing
// API keys or tokens is rate-limited like anything else.

import { MemoryRateLimitStore, RateLimiter } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Principal } from '../src/auth/authenticator.ts'
import { gate } from '../src/auth/gate.ts'
import { parseBody } from '../src/body.ts'
import { RpcErrorCode } from '../src/errors.ts'
import { methodWeight } from '../src/method-table.ts'

const limiter = (perIp: number) =>
  new RateLimiter(
    { enabled: true, windowMs: 60_000, perIp, perKey: 1000, onStoreError: 'open' },
    { store: new MemoryRateLimitStore(), weigh: methodWeight },
  )

const anonymous: Principal = { role: 'public', kind: 'anonymous', name: null, invalid: null }
const guessing: Principal = {
  role: 'public',
  kind: 'anonymous',
  name: null,
  invalid: new CairnError(RpcErrorCode.AUTH_INVALID, 'invalid credentials: unknown API key', { fault: 'caller' }),
}

describe('the gate charges before it judges', () => {
  it('charges bodies that do not parse: the fourth of three allowed is 429', async () => {
    const l = limiter(3)
    for (let i = 0; i < 3; i++)
      expect(await gate(parseBody('{nope'), { principal: anonymous, ip: '10.0.0.1' }, l)).toBeUndefined()
    const r = await gate(parseBody('{nope'), { principal: anonymous, ip: '10.0.0.1' }, l)
    expect(r?.status).toBe(429)
    expect(JSON.parse(r?.body ?? '{}')).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32005 } })
  })

  it('charges batch entries without a method', async () => {
    const l = limiter(5)
    const body = parseBody(JSON.stringify([{}, { id: 1 }, 7, null, { jsonrpc: '2.0', id: 2 }]))
    expect(await gate(body, { principal: anonymous, ip: '10.0.0.2' }, l)).toBeUndefined()
    expect((await gate(body, { principal: anonymous, ip: '10.0.0.2' }, l))?.status).toBe(429)
  })

  it('charges requests refused for their credentials to the IP: credential guessing hits 429', async () => {
    const l = limiter(4)
    const body = parseBody(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_mine', params: [] }))
    const statuses: number[] = []
    for (let i = 0; i < 6; i++)
      statuses.push((await gate(body, { principal: guessing, ip: '10.0.0.3' }, l))?.status ?? 200)
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429])
  })

  it('charges every request exactly its weight, whatever it holds (property)', async () => {
    const entry = fc.oneof(
      fc.constant('{not json'),
      fc.constantFrom('eth_chainId', 'evm_mine', 'eth_getLogs', 'debug_traceCall', 'nope_x'),
      fc.constant(null),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 8 }), async (entries) => {
        const l = limiter(1_000_000)
        let charged = 0
        const store = (l as unknown as { modules: { store: MemoryRateLimitStore } }).modules.store
        const hit = store.hit.bind(store)
        store.hit = (k, w, lim, win, now) => {
          charged += w
          return hit(k, w, lim, win, now)
        }
        let expected = 0
        for (const e of entries) {
          const text =
            e === '{not json' ? e : JSON.stringify(e === null ? { id: 1 } : { jsonrpc: '2.0', id: 1, method: e })
          await gate(parseBody(text), { principal: guessing, ip: '10.0.0.4' }, l)
          expected += e === 'eth_getLogs' ? 10 : e === 'debug_traceCall' ? 20 : 1
        }
        expect(charged).toBe(expected)
      }),
      { numRuns: 50 },
    )
  })
})
