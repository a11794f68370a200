import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DEFAULT_RPC_LIMITS, type RpcContext, type RpcLimits } from '../src/context.ts'
import { RpcDispatcher } from '../src/dispatcher.ts'
import { method } from '../src/method.ts'
import { methodWeight } from '../src/method-table.ts'

/** A dispatcher over test methods; the batch logic reads nothing of the context but its limits. */
function dispatcher(limits: Partial<RpcLimits>, methods: ReturnType<typeof method>[], now?: () => number) {
  const ctx = { limits: { ...DEFAULT_RPC_LIMITS, ...limits } } as RpcContext
  return new RpcDispatcher(
    { dev: false },
    { ctx, methods, metrics: null, logger: silentLogger, ...(now ? { now } : {}) },
  )
}

const call = (i: number, name: string, params: unknown[] = []) => ({ jsonrpc: '2.0', id: i, method: name, params })

describe('batch budgets', () => {
  it('answers ten heavy entries of ~400 KB within a 1 MB limit: -32003 from the one that does not fit, the rest never run', async () => {
    let ran = 0
    // Named as the heavy method it stands for: eth_getLogs weighs 10, so all ten fit one window.
    // Its work awaits promises already resolved (cached blocks), as the real one does.
    const big = method({
      name: 'eth_getLogs',
      params: z.tuple([]),
      handler: async () => {
        ran++
        await Promise.resolve()
        return 'x'.repeat(400_000)
      },
    })
    const limit = 1_000_000
    const d = dispatcher({ batchResponseLimit: limit }, [big])
    const text = (await d.handleText(
      JSON.stringify(Array.from({ length: 10 }, (_, i) => call(i, 'eth_getLogs'))),
    )) as string
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(limit)
    const out = JSON.parse(text)
    expect(out).toHaveLength(10)
    expect(out.slice(0, 2).every((r: { result?: string }) => r.result?.length === 400_000)).toBe(true)
    for (const [i, r] of out.slice(2).entries()) {
      expect(r).toEqual({ jsonrpc: '2.0', id: i + 2, error: { code: -32003, message: 'response too large' } })
    }
    // The third ran (its size is known only once it answers); none started after it.
    expect(ran).toBe(3)
  })

  it('keeps any mix of answers within the limit, refusing from the first that does not fit (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ size: fc.nat(3000), how: fc.constantFrom('sync', 'resolved', 'io'), heavy: fc.boolean() }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.integer({ min: 50, max: 20_000 }),
        async (entries, limit) => {
          const answer = (i: number) => 'y'.repeat((entries[i] as { size: number }).size)
          const run = async ([i]: [number]) => {
            const how = (entries[i] as { how: string }).how
            if (how === 'io') await new Promise((r) => setTimeout(r, (i * 7) % 3))
            else await Promise.resolve()
            return answer(i)
          }
          const methods = [
            method({ name: 'eth_getLogs', params: z.tuple([z.number()]), handler: run }),
            method({ name: 'eth_chainId', params: z.tuple([z.number()]), handler: run }),
            method({ name: 'debug_sync', params: z.tuple([z.number()]), handler: ([i]) => answer(i) }),
            method({ name: 'test_sync', params: z.tuple([z.number()]), handler: ([i]) => answer(i) }),
          ]
          const d = dispatcher({ batchResponseLimit: limit }, methods)
          const batch = entries.map((e, i) =>
            call(
              i,
              e.how === 'sync' ? (e.heavy ? 'debug_sync' : 'test_sync') : e.heavy ? 'eth_getLogs' : 'eth_chainId',
              [i],
            ),
          )
          const out = JSON.parse((await d.handleText(JSON.stringify(batch))) as string) as {
            id: number
            result?: string
            error?: { code: number }
          }[]
          expect(out.map((r) => r.id)).toEqual(entries.map((_, i) => i))
          const sent = out.filter((r) => r.error === undefined)
          // The answers sent are a prefix, and the array of them is within the limit.
          expect(out.slice(0, sent.length)).toEqual(sent)
          const bytes = Buffer.byteLength(JSON.stringify(sent))
          expect(bytes).toBeLessThanOrEqual(limit)
          // Every other entry answers -32003, from the first whose answer would not have fit.
          expect(out.slice(sent.length).every((r) => r.error?.code === -32003)).toBe(true)
          if (sent.length < out.length) {
            const next = JSON.stringify({ jsonrpc: '2.0', id: sent.length, result: answer(sent.length) })
            expect(bytes + Buffer.byteLength(next) + (sent.length > 0 ? 1 : 0)).toBeGreaterThan(limit)
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it('stops starting entries past its time budget (-32002 for the rest), on an injected clock', async () => {
    let clock = 0
    let ran = 0
    const slow = method({
      name: 'debug_slow',
      params: z.tuple([]),
      handler: () => {
        ran++
        clock += 3000
        return ran
      },
    })
    const d = dispatcher({ batchTimeLimitMs: 10_000 }, [slow], () => clock)
    const batch = Array.from({ length: 20 }, (_, i) => call(i, 'debug_slow'))
    const out = JSON.parse((await d.handleText(JSON.stringify(batch))) as string)
    // Checked before each entry starts: the fifth would start at 12 s, past the 10 s budget.
    expect(ran).toBe(4)
    expect(out.slice(0, 4).map((r: { result: number }) => r.result)).toEqual([1, 2, 3, 4])
    expect(out.slice(4).map((r: { error: { code: number } }) => r.error.code)).toEqual(Array(16).fill(-32002))
  })

  it.each([
    ['synchronous', false],
    ['awaiting resolved promises (cached reads)', true],
  ])('lets the event loop run after each heavy entry that holds it: %s', async (_, awaits) => {
    const marks: string[] = []
    const hold = () => {
      const t0 = performance.now()
      while (performance.now() - t0 < 2) {
        // holds the loop, as an EVM call does between its awaits on cached state
      }
    }
    const done = (i: number) => {
      marks.push(`entry ${i}`)
      setImmediate(() => marks.push(`loop after ${i}`))
      return i
    }
    const busy = method({
      name: 'debug_busy',
      params: z.tuple([z.number()]),
      handler: awaits
        ? async ([i]) => {
            for (let k = 0; k < 3; k++) {
              await Promise.resolve()
              hold()
            }
            return done(i)
          }
        : ([i]) => {
            hold()
            return done(i)
          },
    })
    const d = dispatcher({}, [busy])
    await d.handleText(JSON.stringify(Array.from({ length: 7 }, (_, i) => call(i, 'debug_busy', [i]))))
    // debug_* weighs 20 (windows of five), yet the loop runs between every two entries.
    expect(marks.slice(0, 13)).toEqual([
      ...[0, 1, 2, 3, 4, 5].flatMap((i) => [`entry ${i}`, `loop after ${i}`]),
      'entry 6',
    ])
  })

  it('answers every entry in order, notifications with nothing, whatever the mix (property)', async () => {
    const echo = method({ name: 'test_echo', params: z.tuple([z.number()]), handler: ([n]) => n })
    const d = dispatcher({}, [echo])
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ notify: fc.boolean(), bad: fc.boolean(), n: fc.integer() }), {
          minLength: 1,
          maxLength: 40,
        }),
        async (entries) => {
          const batch = entries.map((e, i) => {
            const req: Record<string, unknown> = {
              jsonrpc: '2.0',
              method: e.bad ? 'nope_x' : 'test_echo',
              params: [e.n],
            }
            if (!e.notify) req.id = i
            return req
          })
          const text = await d.handleText(JSON.stringify(batch))
          const expected = entries.flatMap((e, i) =>
            e.notify ? [] : [e.bad ? { id: i, code: -32601 } : { id: i, result: e.n }],
          )
          if (expected.length === 0) {
            expect(text).toBeUndefined()
            return
          }
          const got = JSON.parse(text as string).map((r: { id: number; result?: number; error?: { code: number } }) =>
            r.error ? { id: r.id, code: r.error.code } : { id: r.id, result: r.result },
          )
          expect(got).toEqual(expected)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('runs cheap entries together: 100 sends share one window (their recovery and journal syncs batch)', async () => {
    let inFlight = 0
    let most = 0
    const send = method({
      name: 'eth_sendRawTransaction',
      params: z.tuple([]),
      handler: async () => {
        most = Math.max(most, ++inFlight)
        await new Promise((r) => setImmediate(r))
        inFlight--
        return '0x'
      },
    })
    const d = dispatcher({}, [send])
    const out = JSON.parse(
      (await d.handleText(
        JSON.stringify(Array.from({ length: 150 }, (_, i) => call(i, 'eth_sendRawTransaction'))),
      )) as string,
    )
    expect(out.map((r: { id: number }) => r.id)).toEqual(Array.from({ length: 150 }, (_, i) => i))
    expect(most).toBe(100)
  })

  it('weighs heavy methods like their heavy siblings', () => {
    expect(methodWeight('eth_getBlockReceipts')).toBe(methodWeight('eth_getLogs'))
    expect(methodWeight('eth_getFilterLogs')).toBe(methodWeight('eth_getLogs'))
    expect(methodWeight('eth_fillTransaction')).toBe(methodWeight('eth_estimateGas'))
    expect(methodWeight('debug_getRawBlock')).toBe(methodWeight('debug_traceTransaction'))
    expect(methodWeight('eth_getBalance')).toBe(1)
  })
})
