import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DEFAULT_RPC_LIMITS, type RpcContext, type RpcLimits } from '../src/context.ts'
import { RpcDispatcher } from '../src/dispatcher.ts'
import { methodWeight } from '../src/limits/weights.ts'
import { method } from '../src/method.ts'

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
  it('stops running a batch once its answers pass the response limit, as geth (-32003 for the rest)', async () => {
    let ran = 0
    // Named as the heavy method it stands for: eth_getLogs weighs 10, so ten run at a time.
    const big = method({
      name: 'eth_getLogs',
      params: z.tuple([]),
      handler: () => {
        ran++
        return 'x'.repeat(1000)
      },
    })
    const d = dispatcher({ batchResponseLimit: 5000 }, [big])
    const out = JSON.parse(
      (await d.handleText(JSON.stringify(Array.from({ length: 200 }, (_, i) => call(i, 'eth_getLogs'))))) as string,
    )
    expect(out).toHaveLength(200)
    // A window of 10 answers of ~1040 bytes passes 5000: it is kept, the other 190 never run.
    expect(ran).toBe(10)
    expect(out.slice(0, 10).every((r: { result?: string }) => r.result?.length === 1000)).toBe(true)
    for (const [i, r] of out.slice(10).entries()) {
      expect(r).toEqual({ jsonrpc: '2.0', id: i + 10, error: { code: -32003, message: 'response too large' } })
    }
  })

  it('stops running a batch past its time budget (-32002 for the rest), on an injected clock', async () => {
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
    // debug_* weighs 20: windows of five. The first window ends at 15 s, past the 10 s budget.
    expect(ran).toBe(5)
    expect(out.slice(0, 5).map((r: { result: number }) => r.result)).toEqual([1, 2, 3, 4, 5])
    expect(out.slice(5).map((r: { error: { code: number } }) => r.error.code)).toEqual(Array(15).fill(-32002))
  })

  it('lets the event loop run between entries that hold it (health checks and sealing are timers and I/O)', async () => {
    const marks: string[] = []
    let timerArmed = false
    const busy = method({
      name: 'debug_busy',
      params: z.tuple([z.number()]),
      handler: ([i]) => {
        if (!timerArmed) {
          timerArmed = true
          setImmediate(() => marks.push('event loop'))
        }
        const t0 = performance.now()
        while (performance.now() - t0 < 2) {
          // holds the loop, as an EVM call does between its awaits on cached state
        }
        marks.push(`entry ${i}`)
        return i
      },
    })
    const d = dispatcher({}, [busy])
    await d.handleText(JSON.stringify(Array.from({ length: 7 }, (_, i) => call(i, 'debug_busy', [i]))))
    // Windows of five (debug_* weighs 20): the loop runs after the first window, before the second.
    expect(marks).toEqual(['entry 0', 'entry 1', 'entry 2', 'entry 3', 'entry 4', 'event loop', 'entry 5', 'entry 6'])
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
