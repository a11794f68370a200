// eth_call outcomes remembered per block and request (call-cache.ts): the cache itself (identical
// calls in flight share one execution, thrown errors are not remembered, bounds), and a model-based
// property over a real dev node: whatever mix of state edits, new blocks, snapshots, reverts, calls
// at `latest` and at past blocks, with and without overrides, every eth_call answers what the model
// of the chain says, and repeating the same calls is answered from the cache.
import type { Hex } from '@cairn/utils'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CallOutcome, CallResultCache } from '../../packages/rpc/src/fast/call-cache.ts'
import type { CallRequest } from '../../packages/rpc/src/schemas.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

const HASH_A = `0x${'aa'.repeat(32)}` as Hex
const HASH_B = `0x${'bb'.repeat(32)}` as Hex
const ok = (output: string): CallOutcome => ({ output: output as Hex, error: undefined })
const req = (data: string) => ({ to: `0x${'11'.repeat(20)}`, data }) as CallRequest

describe('CallResultCache', () => {
  it('runs identical calls in flight once, shares the outcome, then answers from memory', async () => {
    const counted: string[] = []
    const cache = new CallResultCache({ entries: 16 }, { count: (r) => counted.push(r) })
    let runs = 0
    let finish: (o: CallOutcome) => void = () => {}
    const run = () => {
      runs++
      return new Promise<CallOutcome>((resolve) => {
        finish = resolve
      })
    }
    const key = cache.keyOf(HASH_A, req('0x01'), 100n)
    const waiting = Array.from({ length: 5 }, () => cache.outcome(key, run))
    finish(ok('0x2a'))
    expect(await Promise.all(waiting)).toEqual(Array(5).fill(ok('0x2a')))
    expect(runs).toBe(1)
    expect(await cache.outcome(key, run)).toEqual(ok('0x2a'))
    expect(runs).toBe(1)
    expect(counted).toEqual(['miss', 'joined', 'joined', 'joined', 'joined', 'hit'])
  })

  it('does not remember an error thrown around the execution; the callers waiting on it get it', async () => {
    const cache = new CallResultCache({ entries: 16 })
    const key = cache.keyOf(HASH_A, req('0x01'), 100n)
    let runs = 0
    const failing = async () => {
      runs++
      await new Promise((r) => setTimeout(r, 5))
      throw new Error('execution aborted (timeout = 5s)')
    }
    const both = await Promise.allSettled([cache.outcome(key, failing), cache.outcome(key, failing)])
    expect(both.map((s) => s.status)).toEqual(['rejected', 'rejected'])
    expect(runs).toBe(1)
    expect(cache.size.entries).toBe(0)
    expect(await cache.outcome(key, async () => ok('0x01'))).toEqual(ok('0x01'))
  })

  it('keeps failed executions (a revert is the block’s answer too)', async () => {
    const cache = new CallResultCache({ entries: 16 })
    const key = cache.keyOf(HASH_A, req('0x01'), 100n)
    const reverted: CallOutcome = { output: '0xdead', error: 'revert' }
    await cache.outcome(key, async () => reverted)
    await cache.outcome(key, async () => reverted)
    expect(await cache.outcome(key, async () => ok('0x00'))).toEqual(reverted)
  })

  it('keeps an outcome once its request repeats: executed before, or asked again while it ran', async () => {
    const counted: string[] = []
    const cache = new CallResultCache({ entries: 16 }, { count: (r) => counted.push(r) })
    let runs = 0
    const run = async () => {
      runs++
      return ok('0x01')
    }
    // Asked once each (distinct arguments): run, never kept.
    for (let i = 0; i < 40; i++)
      await cache.outcome(cache.keyOf(HASH_A, req(`0x${i.toString(16).padStart(2, '0')}`), 1n), run)
    expect(cache.size.entries).toBe(0)
    // Asked again soon (among the last 32 outcomes): answered from memory, and kept.
    const key = cache.keyOf(HASH_B, req('0x01'), 1n)
    await cache.outcome(key, run)
    runs = 0
    await cache.outcome(key, run)
    expect(runs).toBe(0)
    expect(cache.size.entries).toBe(1)
    // Asked again later: run a second time, then kept and answered from memory.
    const first = cache.keyOf(HASH_A, req('0x00'), 1n)
    await cache.outcome(first, run)
    expect(runs).toBe(1)
    await cache.outcome(first, run)
    expect(runs).toBe(1)
    expect(cache.size.entries).toBe(2)
    expect(counted.slice(-4)).toEqual(['miss', 'hit', 'miss', 'hit'])
  })

  it('keys on the block, the gas limit and every request field', () => {
    const cache = new CallResultCache({ entries: 16 })
    const base = { to: `0x${'11'.repeat(20)}`, data: '0x01' } as CallRequest
    const k = cache.keyOf(HASH_A, base, 100n)
    expect(cache.keyOf(HASH_A, { ...base }, 100n)).toBe(k)
    expect(cache.keyOf(HASH_B, base, 100n)).not.toBe(k)
    expect(cache.keyOf(HASH_A, base, 101n)).not.toBe(k)
    for (const extra of [
      { from: `0x${'22'.repeat(20)}` },
      { value: 1n },
      { gasPrice: 1n },
      { maxFeePerGas: 1n },
      { data: '0x02' },
      { input: '0x01' },
      { accessList: [{ address: `0x${'33'.repeat(20)}`, storageKeys: [] }] },
      { blobVersionedHashes: [HASH_A] },
    ]) {
      expect(cache.keyOf(HASH_A, { ...base, ...extra } as CallRequest, 100n)).not.toBe(k)
    }
  })

  it('is bounded: least recently used outcomes go first; none kept with 0 entries; large input and output are run, not kept', async () => {
    const lru = new CallResultCache({ entries: 2 })
    const keys = ['0x01', '0x02', '0x03'].map((d) => lru.keyOf(HASH_A, req(d), 1n))
    // Each twice: kept from its second execution.
    for (const k of keys) for (let i = 0; i < 2; i++) await lru.outcome(k, async () => ok('0x00'))
    let ran = false
    await lru.outcome(keys[0], async () => {
      ran = true
      return ok('0x00')
    })
    expect(ran).toBe(true)
    expect(lru.size.entries).toBe(2)

    const off = new CallResultCache({ entries: 0 })
    expect(off.keyOf(HASH_A, req('0x01'), 1n)).toBeUndefined()

    const cache = new CallResultCache({ entries: 16 })
    expect(cache.keyOf(HASH_A, req(`0x${'ab'.repeat(5000)}`), 1n)).toBeUndefined()
    const k = cache.keyOf(HASH_A, req('0x01'), 1n)
    for (let i = 0; i < 2; i++) await cache.outcome(k, async () => ok(`0x${'00'.repeat(10_000)}`))
    expect(cache.size.entries).toBe(0)

    // Bounded by characters too: keys and outputs of the kept outcomes never exceed the budget.
    const small = new CallResultCache({ entries: 1000, maxChars: 2000 })
    for (let i = 0; i < 100; i++) {
      const key = small.keyOf(HASH_A, req(`0x${(i >> 1).toString(16).padStart(2, '0')}`), 1n)
      await small.outcome(key, async () => ok(`0x${'ab'.repeat(100)}`))
      expect(small.size.chars).toBeLessThanOrEqual(2000)
    }
    expect(small.size.entries).toBeGreaterThan(3)
  })
})

// ---- Over a real dev node -----------------------------------------------------------------------

const READER = `0x${'00'.repeat(18)}c0de` as Hex
const FRESH = `0x${'00'.repeat(18)}beef` as Hex
/** Returns SLOAD(0) + BALANCE(FRESH); reverts with 0xdead when that sum is 13. */
const READER_CODE = '0x61beef316000540180600052600d1460175760206000f35b61dead6000526002601efd'

const action = fc.oneof(
  fc.record({ kind: fc.constant('slot' as const), value: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('balance' as const), value: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('mine' as const) }),
  fc.record({ kind: fc.constant('snapshot' as const) }),
  fc.record({ kind: fc.constant('revert' as const), which: fc.nat() }),
  fc.record({ kind: fc.constant('call' as const), back: fc.nat({ max: 6 }), override: fc.option(fc.nat({ max: 20 })) }),
)
type Action = typeof action extends fc.Arbitrary<infer T> ? T : never

describe('eth_call through the cache on a dev node', () => {
  let node: StartedNode
  let url: string
  beforeAll(async () => {
    node = await startDevNode()
    url = node.url
  })
  afterAll(() => node?.close())

  const metric = async (result: string) => {
    const text = await (await fetch(`${url}/metrics`)).text()
    const line = text.split('\n').find((l) => l.startsWith(`cairn_rpc_call_cache_requests_total{result="${result}"}`))
    return Number(line?.split(' ')[1] ?? 0)
  }

  it('answers what the chain holds at each block, through edits, new blocks, snapshots and reverts', async () => {
    await result(url, 'anvil_setCode', [READER, READER_CODE])
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 14 }), async (actions) => {
        // The model: slot and balance per block number, from the head at the start. An edit
        // changes the head's state without a block (as Anvil: reads at the head's number see it,
        // before and after the next block); a block starts from its parent's state.
        const start = Number(await result<Hex>(url, 'eth_blockNumber'))
        const startSnap = await result<Hex>(url, 'evm_snapshot')
        await result(url, 'anvil_setStorageAt', [READER, '0x0', `0x${'0'.repeat(64)}`])
        await result(url, 'anvil_setBalance', [FRESH, '0x0'])
        expect(Number(await result<Hex>(url, 'eth_blockNumber'))).toBe(start)
        const model = new Map<number, { slot: number; balance: number }>()
        let head = start
        let state = { slot: 0, balance: 0 }
        model.set(head, state)
        const snaps: { id: Hex; head: number; state: typeof state }[] = []
        const expected = (n: number, slotOverride: number | null) => {
          const at = model.get(n) as { slot: number; balance: number }
          const sum = (slotOverride ?? at.slot) + at.balance
          return sum === 13 ? { error: 'execution reverted', data: '0xdead' } : { value: BigInt(sum) }
        }
        for (const a of actions as Action[]) {
          if (a.kind === 'slot' || a.kind === 'balance') {
            if (a.kind === 'slot')
              await result(url, 'anvil_setStorageAt', [READER, '0x0', `0x${a.value.toString(16).padStart(64, '0')}`])
            else await result(url, 'anvil_setBalance', [FRESH, `0x${a.value.toString(16)}`])
            state = { ...state, [a.kind]: a.value }
            model.set(head, state)
          } else if (a.kind === 'mine') {
            await result(url, 'evm_mine')
            model.set(++head, state)
          } else if (a.kind === 'snapshot') {
            snaps.push({ id: await result<Hex>(url, 'evm_snapshot'), head, state })
          } else if (a.kind === 'revert') {
            if (snaps.length === 0) continue
            const i = a.which % snaps.length
            const snap = snaps[i] as (typeof snaps)[number]
            expect(await result(url, 'evm_revert', [snap.id])).toBe(true)
            snaps.splice(i) // this snapshot and every later one are used up
            for (const n of [...model.keys()]) if (n > snap.head) model.delete(n)
            // The head's state as it was at the snapshot: edits made after it are undone.
            head = snap.head
            state = snap.state
            model.set(head, state)
          } else {
            const n = Math.max(start, head - a.back)
            const tag = n === head ? 'latest' : `0x${n.toString(16)}`
            const override =
              a.override === null
                ? []
                : [{ [READER]: { stateDiff: { '0x0': `0x${a.override.toString(16).padStart(64, '0')}` } } }]
            const want = expected(n, a.override)
            // Twice: the second is answered from the cache (without an override) and must agree.
            for (let i = 0; i < 2; i++) {
              const r = await call(url, 'eth_call', [{ to: READER }, tag, ...override])
              if ('value' in want) expect(BigInt(r.result as Hex)).toBe(want.value)
              else expect(r.error).toMatchObject({ code: 3, message: want.error, data: want.data })
            }
          }
        }
        expect(await result(url, 'evm_revert', [startSnap])).toBe(true)
      }),
      {
        numRuns: 25,
        // Run every time besides the random ones, so the counts below never hang on the draw (a
        // CI run drew 25 sequences without one call free of overrides: no hit): a call at the
        // parent block (miss, then hit) and one with a state override (bypass).
        examples: [
          [[{ kind: 'mine' }, { kind: 'call', back: 1, override: null }, { kind: 'call', back: 0, override: 3 }]],
        ],
      },
    )
    expect(await metric('hit')).toBeGreaterThan(0)
    expect(await metric('miss')).toBeGreaterThan(0)
    expect(await metric('bypass')).toBeGreaterThan(0)
  }, 120_000)

  it('answers 16 identical concurrent calls with one execution', async () => {
    await result(url, 'anvil_setCode', [READER, READER_CODE])
    await result(url, 'anvil_setStorageAt', [READER, '0x0', `0x${'0'.repeat(63)}5`])
    const missBefore = await metric('miss')
    const answers = await Promise.all(
      Array.from({ length: 16 }, () => result<Hex>(url, 'eth_call', [{ to: READER, data: '0x16' }, 'latest'])),
    )
    expect(new Set(answers.map((a) => BigInt(a)))).toEqual(
      new Set([5n + BigInt(await result<Hex>(url, 'eth_getBalance', [FRESH, 'latest']))]),
    )
    expect((await metric('miss')) - missBefore).toBe(1)
  })
})
