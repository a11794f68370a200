// The dispatcher answers now what its handler answered without a promise (the fast lane then
// writes it in the same turn): differential against the same methods made asynchronous — every
// request, single or batched, valid or not, gets the same text, and the same counts in the metrics.
import { CairnError, silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { parseBody } from '../src/body.ts'
import {
  createRpcMetrics,
  DEFAULT_RPC_LIMITS,
  isPromise,
  type RpcContext,
  RpcDispatcher,
  RpcErrorCode,
} from '../src/index.ts'
import { type MethodDef, method } from '../src/method.ts'

/** Methods answering now (or throwing now), and one that always waits. */
const syncMethods: MethodDef[] = [
  method({ name: 'test_double', params: z.tuple([z.number()]), handler: ([n]) => n * 2 }),
  method({
    name: 'test_refuse',
    params: z.tuple([z.string().optional()]),
    handler: ([why]) => {
      throw new CairnError(RpcErrorCode.INVALID_PARAMS, `refused: ${why ?? 'no reason'}`, { fault: 'caller' })
    },
  }),
  method({
    name: 'test_bug',
    params: z.tuple([]),
    handler: () => {
      throw new Error('a bug')
    },
  }),
  method({ name: 'test_nothing', params: z.tuple([]), handler: () => undefined }),
  method({ name: 'test_wait', params: z.tuple([z.number()]), handler: async ([n]) => n + 1 }),
]

/** The same methods, every handler behind a promise (how every handler answered before). */
const asyncMethods: MethodDef[] = syncMethods.map((m) => ({
  ...m,
  handler: async (params, ctx, call) => m.handler(params, ctx, call),
}))

function dispatcher(methods: MethodDef[]) {
  const registry = new Registry()
  const ctx = { limits: DEFAULT_RPC_LIMITS } as RpcContext
  const d = new RpcDispatcher(
    { dev: false },
    { ctx, methods, metrics: createRpcMetrics(registry), logger: silentLogger },
  )
  return { d, registry }
}

const entry = fc.oneof(
  fc.record(
    {
      jsonrpc: fc.constantFrom('2.0', '1.0'),
      id: fc.oneof(fc.nat(), fc.string({ maxLength: 4 }), fc.constant(null)),
      method: fc.constantFrom('test_double', 'test_refuse', 'test_bug', 'test_nothing', 'test_wait', 'test_absent'),
      params: fc.oneof(
        fc.constant([]),
        fc.tuple(fc.integer({ min: -1000, max: 1000 })),
        fc.tuple(fc.string({ maxLength: 6 })),
        fc.constant({}),
      ),
    },
    { requiredKeys: ['jsonrpc', 'method'] },
  ),
  fc.constantFrom(null, 1, 'x', []),
)
const body = fc.oneof(entry, fc.array(entry, { maxLength: 5 }))

/** The request counts in the metrics page (by method and code), without the durations. */
async function counts(registry: Registry): Promise<string> {
  const page = await registry.metrics()
  return page
    .split('\n')
    .filter((l) => l.startsWith('cairn_rpc_requests_total'))
    .sort()
    .join('\n')
}

describe('answers a handler has now', () => {
  it('are the same as the answers of the same handlers behind a promise, single or batched', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 8 }), async (bodies) => {
        const now = dispatcher(syncMethods)
        const later = dispatcher(asyncMethods)
        for (const b of bodies) {
          const parsed = parseBody(JSON.stringify(b))
          expect(await now.d.handleParsed(parsed)).toBe(await later.d.handleParsed(parsed))
        }
        expect(await counts(now.registry)).toBe(await counts(later.registry))
      }),
      { numRuns: 200 },
    )
  })

  it('come back without a promise for a single request; a waiting handler or a batch gives a promise', () => {
    const { d } = dispatcher(syncMethods)
    const single = (m: string, params: unknown[]) =>
      d.handleParsed(parseBody(JSON.stringify({ jsonrpc: '2.0', id: 1, method: m, params })))
    expect(single('test_double', [21])).toBe('{"jsonrpc":"2.0","id":1,"result":42}')
    const refused = single('test_refuse', ['no'])
    expect(isPromise(refused)).toBe(false)
    expect(JSON.parse(refused as string).error).toMatchObject({ code: -32602, message: 'refused: no' })
    expect(isPromise(single('test_double', ['not a number']))).toBe(false) // invalid params: answered now too
    expect(isPromise(single('test_wait', [1]))).toBe(true)
    const batch = d.handleParsed(
      parseBody(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'test_double', params: [1] }])),
    )
    expect(isPromise(batch)).toBe(true)
  })
})
