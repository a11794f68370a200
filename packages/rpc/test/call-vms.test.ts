// eth_call on reused VMs (exec.ts withCall, call-vms.ts) gives exactly what a fresh VM per call
// gives: a differential property over random call sequences that write storage, transient storage,
// balances and nonces, create contracts, self-destruct, revert, run out of gas and use overrides.
// Pooled calls also take the read-only shortcuts (no nonce bump for a non-empty caller without
// code, no zero-value transfer of the top frame: exec.ts, patches/): the fresh-VM path takes none,
// so the property is the differential test of those shortcuts too (callers empty, absent, funded,
// a contract; code that reads the caller's code hash, pays the caller, or makes the caller CREATE).
import { type Chain, devGenesis } from '@cairn/chain'
import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ADDRS, openChain } from '../../chain/test/helpers.ts'
import { callVms } from '../src/call-vms.ts'
import { DEFAULT_RPC_LIMITS, type RpcContext } from '../src/context.ts'
import { type CallOverrides, prepareCall, withCall } from '../src/exec.ts'
import type { CallRequest } from '../src/schemas.ts'

const ret = '60005260206000f3' // MSTORE(0, top); RETURN(0, 32)
const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as Hex
const push20 = (a: Hex) => `73${a.slice(2)}`

const EMPTY = addr(0xe0) // an existing empty account (touching it must not delete it for the next call)
const FRESH = addr(0xbeef)
const C = {
  counter: addr(0xc001), // returns slot 0, then increments it
  tcounter: addr(0xc002), // the same with transient storage
  reverter: addr(0xc003), // REVERT with 0xdead
  burner: addr(0xc004), // INVALID: burns all gas
  creator: addr(0xc005), // CREATE (address depends on its nonce)
  payFresh: addr(0xc006), // forwards CALLVALUE to FRESH, returns FRESH's balance
  payEmpty: addr(0xc007), // forwards CALLVALUE to EMPTY, returns EMPTY's balance
  destruct: addr(0xc008), // SELFDESTRUCT to FRESH
  nested: addr(0xc009), // calls counter, then reverts
  reader: addr(0xc00a), // returns BALANCE(FRESH) + EXTCODEHASH(EMPTY) + NUMBER + SLOAD(counter via call)
  callerHash: addr(0xc00b), // returns EXTCODEHASH(CALLER): 0 for an empty caller, keccak('') once its nonce is bumped
  payCaller: addr(0xc00c), // sends 1 wei to CALLER (25,000 more gas when the caller is empty), returns GAS
  callBack: addr(0xc00d), // calls CALLER and returns its first word (the creator's new address: its nonce)
}
/** Pushes 0, 0, 0 (args, value), the counter, GAS; CALL; POP: prefix it with the return size. */
const callCounter = `6000600060006000${push20(C.counter)}5af150`
const CODE: Record<keyof typeof C, string> = {
  counter: `600054806001016000556000526020${'6000f3'}`,
  tcounter: `60005c8060010160005d6000526020${'6000f3'}`,
  reverter: '61dead60005260206000fd',
  burner: 'fe',
  creator: `600060006000f0${ret}`,
  payFresh: `600060006000600034${'61beef'}5af15061beef31${ret}`,
  payEmpty: `600060006000600034${'60e0'}5af15060e031${ret}`,
  destruct: '61beefff',
  nested: `6000${callCounter}60006000fd`,
  // BALANCE(FRESH) + EXTCODEHASH(EMPTY) + NUMBER + what counter returned (it runs and increments)
  reader: `61beef3160e03f01430160206000${callCounter.slice(4)}60005101${ret}`,
  callerHash: `333f${ret}`,
  payCaller: `6000600060006000600133${'5a'}f1505a${ret}`,
  callBack: `6020600060006000600033${'5a'}f15060206000f3`,
}

function genesis(): unknown {
  const g = devGenesis({ accounts: ADDRS }) as { alloc: Record<string, unknown> }
  for (const [name, a] of Object.entries(C)) {
    const funded = name === 'destruct' || name === 'payCaller'
    g.alloc[a] = { balance: funded ? '0x64' : '0x0', code: `0x${CODE[name as keyof typeof C]}` }
  }
  g.alloc[EMPTY] = { balance: '0x0' }
  return g
}

const target = fc.constantFrom(...(Object.keys(C) as (keyof typeof C)[]))
const step = fc.record({
  to: target,
  from: fc.constantFrom<Hex | undefined>(ADDRS[0] as Hex, FRESH, undefined, EMPTY, C.creator),
  value: fc.constantFrom(0n, 0n, 7n),
  gas: fc.constantFrom<bigint | undefined>(undefined, 25_000n, 40_000n, 60_000n),
  override: fc.constantFrom('none', 'none', 'none', 'storage', 'balance', 'block'),
})
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never

function request(s: Step): { req: CallRequest; overrides: CallOverrides } {
  const req = {
    to: C[s.to],
    ...(s.from ? { from: s.from } : {}),
    ...(s.value ? { value: s.value } : {}),
    ...(s.gas ? { gas: s.gas } : {}),
  } as CallRequest
  const overrides: CallOverrides =
    s.override === 'storage'
      ? { state: { [C.counter]: { stateDiff: { '0x0': `0x${'0'.repeat(62)}2a` as Hex } } } }
      : s.override === 'balance'
        ? { state: { [FRESH]: { balance: 10n ** 18n } } }
        : s.override === 'block'
          ? { block: { number: 1000n } }
          : {}
  return { req, overrides: overrides as CallOverrides }
}

/** What a call produced, comparable across VMs. */
async function outcome(run: () => Promise<{ ret: Uint8Array; err?: string; gas: bigint }>): Promise<string> {
  try {
    const r = await run()
    return `ok ${bytesToHex(r.ret)} ${r.err ?? '-'} ${r.gas}`
  } catch (err) {
    return `threw ${(err as Error).message}`
  }
}

const gasOf = (s: Step) => s.gas ?? 1_000_000n

async function viaFreshVm(ctx: RpcContext, s: Step): Promise<string> {
  const { req, overrides } = request(s)
  return outcome(async () => {
    const call = await prepareCall(ctx, req, ctx.chain.head, overrides)
    const r = await call.run(gasOf(s))
    return {
      ret: r.execResult.returnValue,
      err: r.execResult.exceptionError?.error,
      gas: r.execResult.executionGasUsed,
    }
  })
}

async function viaPool(ctx: RpcContext, s: Step): Promise<string> {
  const { req, overrides } = request(s)
  return outcome(() =>
    withCall(ctx, req, ctx.chain.head, overrides, async (call) => {
      const r = await call.run(gasOf(s))
      return {
        ret: r.execResult.returnValue,
        err: r.execResult.exceptionError?.error,
        gas: r.execResult.executionGasUsed,
      }
    }),
  )
}

function context(chain: Chain): RpcContext {
  return { chain, limits: DEFAULT_RPC_LIMITS } as unknown as RpcContext
}

/** Counts the VMs made for calls on `chain` from now on (`created`, resettable). */
function countVmCreations(chain: Chain): { created: number } {
  const counter = { created: 0 }
  const vmAt = chain.vmAt.bind(chain)
  chain.vmAt = (...args) => {
    counter.created++
    return vmAt(...args)
  }
  return counter
}

describe('eth_call on reused VMs', () => {
  it('random call sequences give the same results as a fresh VM per call, in order and concurrently', async () => {
    const chain = await openChain(new MemoryKV(), genesis())
    const ctx = context(chain)
    const vms = countVmCreations(chain)
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const fresh: string[] = []
        for (const s of steps) fresh.push(await viaFreshVm(ctx, s))
        const pooled: string[] = []
        for (const s of steps) pooled.push(await viaPool(ctx, s))
        expect(pooled).toEqual(fresh)
        // Concurrent calls borrow different VMs; none sees another's writes.
        expect(await Promise.all(steps.map((s) => viaPool(ctx, s)))).toEqual(fresh)
      }),
      { numRuns: 60 },
    )
    // The property exercised the reuse: far fewer VMs were created for pooled calls than calls made.
    expect(callVms(ctx).idleCount).toBeGreaterThan(0)
    expect(vms.created).toBeGreaterThan(0)
  }, 120_000)

  it('a call that writes state leaves nothing behind for the next call on the same VM', async () => {
    const chain = await openChain(new MemoryKV(), genesis())
    const ctx = context(chain)
    const s: Step = { to: 'counter', from: undefined, value: 0n, gas: undefined, override: 'none' }
    const t: Step = { ...s, to: 'tcounter' }
    const p: Step = { ...s, to: 'payFresh', from: ADDRS[0] as Hex, value: 7n }
    const first = [await viaPool(ctx, s), await viaPool(ctx, t), await viaPool(ctx, p)]
    for (let i = 0; i < 5; i++) {
      expect([await viaPool(ctx, s), await viaPool(ctx, t), await viaPool(ctx, p)]).toEqual(first)
    }
    expect(first[0]).toMatch(/^ok 0x0{64} - /) // slot 0 still reads 0: the increment was reverted
    expect(first[2]).toMatch(/^ok 0x0{63}7 - /) // FRESH holds only this call's 7 wei
    expect(callVms(ctx).idleCount).toBe(1)
  })

  it('16 concurrent calls share at most 4 VMs; a spoilt VM is replaced for the caller waiting on it', async () => {
    const chain = await openChain(new MemoryKV(), genesis())
    const ctx = context(chain)
    const vms = countVmCreations(chain)
    const s: Step = { to: 'counter', from: undefined, value: 0n, gas: undefined, override: 'none' }
    const one = await viaFreshVm(ctx, s)
    vms.created = 0
    expect(await Promise.all(Array.from({ length: 16 }, () => viaPool(ctx, s)))).toEqual(Array(16).fill(one))
    expect(vms.created).toBe(4)
    expect(callVms(ctx).idleCount).toBe(4)

    // At the cap, callers queue; a released VM goes to the first of them, a spoilt one is replaced.
    const pool = callVms(ctx)
    const head = chain.head
    const held = await Promise.all([1, 2, 3, 4].map(() => pool.acquire(head)))
    expect(vms.created).toBe(4) // the idle ones
    const first = pool.acquire(head)
    const second = pool.acquire(head)
    const spoilt = held[0] as (typeof held)[0]
    spoilt.reusable = false
    pool.release(spoilt)
    pool.release(held[1] as (typeof held)[0])
    const [a, b] = await Promise.all([first, second])
    expect(vms.created).toBe(5) // one new VM, for the caller whose VM was spoilt
    expect(a).not.toBe(spoilt)
    expect(b).toBe(held[1])
    for (const cv of [a, b, held[2], held[3]]) pool.release(cv as (typeof held)[0])
    expect(pool.idleCount).toBe(4)
    expect(await viaPool(ctx, s)).toBe(one)
  })
})
