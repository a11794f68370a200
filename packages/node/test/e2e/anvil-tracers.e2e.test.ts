// Differential test of geth's built-in tracers (debug_traceTransaction, debug_traceCall,
// debug_traceBlockByNumber) against a real Anvil 1.7.1 (ANVIL_BIN, or `npm install --no-save
// @foundry-rs/anvil@1.7.1`): the same transactions sent to both, the same traces asked of both.
// prestateTracer (both modes) and 4byteTracer compare value for value (balances that pay fees
// aside: each chain prices gas its own way); Anvil answers `{}` to flatCallTracer and muxTracer, so
// those compare with Anvil's trace_transaction (the same Parity format) and with Cairn's own tracers.
//
//   npx vitest run packages/node/test/e2e/anvil-tracers.e2e.test.ts
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { anvilBinary, killAllNodes, type NodeHandle, rpcRequest, startNode } from './harness.ts'
import { devAccount } from './helpers.ts'

const haveAnvil = existsSync(anvilBinary())
if (!haveAnvil) {
  console.warn(
    `skipping the Anvil tracer differential: no Anvil binary at ${anvilBinary()} (set ANVIL_BIN, or npm install --no-save @foundry-rs/anvil@1.7.1)`,
  )
}

const A0 = devAccount(0).address.toLowerCase()
/** Runtime: SSTORE(0, CALLVALUE + 1), RETURN 32 bytes of SLOAD(0). */
const STORE = '6001340160005560005460005260206000f3'
/** Runtime: CALL `target` with the 4-byte input 0x12345678, then STOP. */
const caller = (target: string) => `631234567860e01b6000526000600060046000600073${target.slice(2)}5af100`
/** Runtime: REVERT with no data. */
const REVERTER = '60006000fd'
/** Init code: SSTORE(0, 42), then a one-byte runtime (STOP). */
const CHILD = '602a600055600060005360016000f3'
/**
 * Runtime: CREATE2 of CHILD (salt 1), then LOG1 (topic 0xff) and LOG0 of 32 bytes: a contract
 * created by CREATE2 that writes storage, and logs for callTracer's `withLog`.
 */
const FACTORY = `6e${CHILD}600052` + '6001600f60116000f550' + '60ff60006000a1' + '60206000a0' + '00'

type Obj = Record<string, unknown>
type Answer = { result?: unknown; error?: { code: number; message: string } }

let anvil: NodeHandle
let cairn: NodeHandle
const nodes = () => [anvil, cairn] as const

function deployer(runtime: string): string {
  const n = (runtime.length / 2).toString(16).padStart(2, '0')
  return `0x60${n}600c60003960${n}6000f3${runtime}`
}

async function ok(node: NodeHandle, method: string, params: unknown[]): Promise<unknown> {
  const r = (await rpcRequest(node.url, method, params)) as Answer
  if (r.error) throw new Error(`${node.kind}: ${method} ${JSON.stringify(r.error)}`)
  return r.result
}

async function send(node: NodeHandle, tx: Obj): Promise<Obj> {
  const hash = await ok(node, 'eth_sendTransaction', [{ from: A0, ...tx }])
  const until = Date.now() + 10_000
  for (;;) {
    const r = (await ok(node, 'eth_getTransactionReceipt', [hash])) as Obj | null
    if (r) return r
    if (Date.now() > until) throw new Error(`${node.kind}: no receipt for ${hash}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** The same steps on both chains: [anvil's, cairn's]. */
async function onBoth<T>(fn: (node: NodeHandle) => Promise<T>): Promise<[T, T]> {
  const [a, c] = nodes()
  return [await fn(a), await fn(c)]
}

/** Accounts of a prestate result with balances left out where a chain's fees decide them. */
function withoutFeeBalances(state: Obj, feePayers: string[]): Obj {
  return Object.fromEntries(
    Object.entries(state)
      .filter(([addr]) => addr !== '0x0000000000000000000000000000000000000000' && !feePayers.includes(addr))
      .map(([addr, acc]) => [addr, acc]),
  )
}

let txs: [string, string] // the traced call through `caller`, on each chain
let reverted: [string, string]
let created2: [string, string] // the FACTORY's call
let callerAddr: string

describe.skipIf(!haveAnvil)("geth's built-in tracers, Anvil and Cairn side by side", () => {
  beforeAll(async () => {
    ;[anvil, cairn] = await Promise.all([startNode('anvil'), startNode('cairn', { args: ['--ephemeral'] })])
    const [sa, sc] = await onBoth((n) => send(n, { data: deployer(STORE) }))
    expect(sc.contractAddress).toBe(sa.contractAddress)
    const [ca, cc] = await onBoth((n) => send(n, { data: deployer(caller(sa.contractAddress as string)) }))
    expect(cc.contractAddress).toBe(ca.contractAddress)
    callerAddr = ca.contractAddress as string
    const [ra, rc] = await onBoth((n) => send(n, { data: deployer(REVERTER) }))
    const [ta, tc] = await onBoth((n) => send(n, { to: callerAddr, data: '0xaabbccdd0000', gas: '0x30000' }))
    txs = [ta.transactionHash as string, tc.transactionHash as string]
    const [xa, xc] = await onBoth((n) =>
      send(n, { to: n === anvil ? ra.contractAddress : rc.contractAddress, gas: '0x30000' }),
    )
    reverted = [xa.transactionHash as string, xc.transactionHash as string]
    const [fa, fc] = await onBoth((n) => send(n, { data: deployer(FACTORY) }))
    expect(fc.contractAddress).toBe(fa.contractAddress)
    const [ga, gc] = await onBoth((n) => send(n, { to: fa.contractAddress, gas: '0x100000' }))
    created2 = [ga.transactionHash as string, gc.transactionHash as string]
  }, 60_000)
  afterAll(async () => {
    await Promise.all([anvil?.stop(), cairn?.stop()])
    killAllNodes()
  })

  const traced = { txs: () => txs, reverted: () => reverted, created2: () => created2 }
  const trace = (i: 0 | 1, config: Obj, which: keyof typeof traced = 'txs') =>
    ok(nodes()[i], 'debug_traceTransaction', [traced[which]()[i], config])

  it('4byteTracer and noopTracer: the same answers', async () => {
    for (const config of [{ tracer: '4byteTracer' }, { tracer: 'noopTracer' }]) {
      const [a, c] = [await trace(0, config), await trace(1, config)]
      expect(c, JSON.stringify(config)).toEqual(a)
    }
    expect(await trace(1, { tracer: '4byteTracer' })).toEqual({ '0xaabbccdd-2': 1, '0x12345678-0': 1 })
  })

  it('prestateTracer: the same accounts, code, nonces and storage (fee-paying balances aside)', async () => {
    const [a, c] = [
      (await trace(0, { tracer: 'prestateTracer' })) as Obj,
      (await trace(1, { tracer: 'prestateTracer' })) as Obj,
    ]
    const coinbases = await onBoth(async (n) => ((await ok(n, 'eth_getBlockByNumber', ['latest', false])) as Obj).miner)
    const payers = [A0, ...coinbases.map(String)]
    expect(withoutFeeBalances(c, payers)).toEqual(withoutFeeBalances(a, payers))
    expect(Object.keys(withoutFeeBalances(c, payers)).length).toBe(2)
    expect((c[A0] as Obj).nonce).toBe((a[A0] as Obj).nonce)
  })

  it('prestateTracer diffMode: the same changes (fee-paying balances aside)', async () => {
    const config = { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }
    const [a, c] = [
      (await trace(0, config)) as { pre: Obj; post: Obj },
      (await trace(1, config)) as { pre: Obj; post: Obj },
    ]
    const coinbases = await onBoth(async (n) => ((await ok(n, 'eth_getBlockByNumber', ['latest', false])) as Obj).miner)
    const payers = [A0, ...coinbases.map(String)]
    expect(withoutFeeBalances(c.pre, payers)).toEqual(withoutFeeBalances(a.pre, payers))
    expect(withoutFeeBalances(c.post, payers)).toEqual(withoutFeeBalances(a.post, payers))
    expect((c.post[A0] as Obj).nonce).toBe((a.post[A0] as Obj).nonce)
    expect(Object.keys(c.post[A0] as Obj).sort()).toEqual(Object.keys(a.post[A0] as Obj).sort())
  })

  it('prestateTracer diffMode: a contract created by CREATE2 is in post, not in pre', async () => {
    const config = { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }
    const [a, c] = [
      (await trace(0, config, 'created2')) as { pre: Obj; post: Obj },
      (await trace(1, config, 'created2')) as { pre: Obj; post: Obj },
    ]
    const coinbases = await onBoth(async (n) => ((await ok(n, 'eth_getBlockByNumber', ['latest', false])) as Obj).miner)
    const payers = [A0, ...coinbases.map(String)]
    expect(withoutFeeBalances(c.pre, payers)).toEqual(withoutFeeBalances(a.pre, payers))
    expect(withoutFeeBalances(c.post, payers)).toEqual(withoutFeeBalances(a.post, payers))
    // The factory (nonce 2) and the child: code, nonce 1 and the slot its init code wrote.
    expect(Object.values(withoutFeeBalances(c.post, payers))).toContainEqual({
      code: '0x00',
      nonce: 1,
      storage: { [`0x${'00'.repeat(32)}`]: `0x${'2a'.padStart(64, '0')}` },
    })
  })

  it('callTracer withLog: each log has its index in the block (the receipt logIndex)', async () => {
    const config = { tracer: 'callTracer', tracerConfig: { withLog: true } }
    const [a, c] = [(await trace(0, config, 'created2')) as Obj, (await trace(1, config, 'created2')) as Obj]
    expect(c.logs).toEqual(a.logs)
    expect((c.logs as Obj[]).map((l) => l.index)).toEqual(['0x0', '0x1'])
    // Two transactions in one block: the second one's logs follow the first one's (as its receipt
    // says; Anvil 1.7.1 numbers each transaction's from 0, geth and the execution-apis spec the block's).
    const child = `0x${'fe'.repeat(20)}`
    await ok(cairn, 'anvil_setCode', [child, `0x${FACTORY.slice(FACTORY.indexOf('60ff'))}`])
    await ok(cairn, 'evm_setAutomine', [false])
    try {
      const first = await ok(cairn, 'eth_sendTransaction', [{ from: A0, to: child, gas: '0x30000' }])
      const second = await ok(cairn, 'eth_sendTransaction', [{ from: A0, to: child, gas: '0x30000' }])
      await ok(cairn, 'evm_mine', [])
      const receipt = (await ok(cairn, 'eth_getTransactionReceipt', [second])) as { logs: Obj[] }
      expect(((await ok(cairn, 'eth_getTransactionReceipt', [first])) as Obj).blockNumber).toBe(
        (receipt as unknown as Obj).blockNumber,
      )
      const tree = (await ok(cairn, 'debug_traceTransaction', [second, config])) as { logs: Obj[] }
      expect(tree.logs.map((l) => l.index)).toEqual(receipt.logs.map((l) => l.logIndex))
      expect(tree.logs.map((l) => l.index)).toEqual(['0x2', '0x3'])
      const block = (await ok(cairn, 'debug_traceBlockByNumber', [
        (receipt as unknown as Obj).blockNumber,
        config,
      ])) as { result: { logs: Obj[] } }[]
      expect(block.map((t) => t.result.logs.map((l) => l.index))).toEqual([
        ['0x0', '0x1'],
        ['0x2', '0x3'],
      ])
      // A block's replay is kept between traces: in any order, each transaction is traced on the
      // state it found.
      const diff = { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }
      const fresh = [
        await ok(cairn, 'debug_traceTransaction', [second, diff]),
        await ok(cairn, 'debug_traceTransaction', [first, diff]),
      ]
      for (const _ of [0, 1]) {
        expect(await ok(cairn, 'debug_traceTransaction', [first, diff])).toEqual(fresh[1])
        expect(await ok(cairn, 'debug_traceTransaction', [second, diff])).toEqual(fresh[0])
      }
      expect(((fresh[0] as { post: Obj }).post[A0] as Obj).nonce).toBe(
        (((fresh[1] as { post: Obj }).post[A0] as Obj).nonce as number) + 1,
      )
    } finally {
      await ok(cairn, 'evm_setAutomine', [true])
    }
  })

  it("trace_transaction of failed calls: Anvil's result and error (gas aside)", async () => {
    const strip = (t: Obj) => {
      const { action, result, blockHash: _h, transactionHash: _t, blockNumber: _n, ...rest } = t
      const { gas: _g, ...act } = action as Obj
      if (result === null || result === undefined) return { ...rest, action: act, result }
      const { gasUsed: _u, ...res } = result as Obj
      return { ...rest, action: act, result: res }
    }
    const [a, c] = (await onBoth((n) => ok(n, 'trace_transaction', [reverted[n === anvil ? 0 : 1]]))) as [Obj[], Obj[]]
    expect(c.map(strip)).toEqual(a.map(strip))
    // A revert keeps its result (the revert data is its output).
    expect(c[0]).toMatchObject({ error: 'Reverted', result: { output: '0x' } })
    // Any other failure has a null result, in Parity's words (an invalid opcode: "Bad instruction").
    const [ba, bc] = await onBoth(async (n) => {
      const contract = (await send(n, { data: deployer('fe') })).contractAddress
      const tx = (await send(n, { to: contract, gas: '0x30000' })).transactionHash
      const traces = (await ok(n, 'trace_transaction', [tx])) as Obj[]
      // The address aside: the chains' nonces of account 0 differ by now.
      return traces.map((t) => ({ ...strip(t), action: { ...(strip(t).action as Obj), to: undefined } }))
    })
    expect(bc).toEqual(ba)
    expect(bc[0]).toMatchObject({ error: 'Bad instruction', result: null })
  })

  it('debug_traceCall and debug_traceBlockByNumber take the same tracers', async () => {
    const call = { from: A0, to: callerAddr, data: '0xaabbccdd' }
    // Anvil 1.7.1's debug_traceCall takes callTracer and prestateTracer only ("unsupported tracer type").
    expect(await ok(cairn, 'debug_traceCall', [call, 'latest', { tracer: '4byteTracer' }])).toEqual({
      '0xaabbccdd-0': 1,
      '0x12345678-0': 1,
    })
    const diff = { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }
    const [pa, pc] = (await onBoth((n) => ok(n, 'debug_traceCall', [call, 'latest', diff]))) as [Obj, Obj]
    expect(Object.keys(pc.post as Obj)).toEqual(Object.keys(pa.post as Obj))
    const blocks = await onBoth(
      async (n) => ((await ok(n, 'eth_getTransactionReceipt', [txs[n === anvil ? 0 : 1]])) as Obj).blockNumber,
    )
    const [ba, bc] = (await onBoth((n) =>
      ok(n, 'debug_traceBlockByNumber', [blocks[n === anvil ? 0 : 1], { tracer: '4byteTracer' }]),
    )) as [Obj[], Obj[]]
    expect(bc.map((t) => t.result)).toEqual(ba.map((t) => t.result))
  })

  it("flatCallTracer: Parity's flat traces, as Anvil's trace_transaction gives them (gas aside)", async () => {
    const flat = (await trace(1, { tracer: 'flatCallTracer' })) as Obj[]
    const parity = (await ok(anvil, 'trace_transaction', [txs[0]])) as Obj[]
    const strip = (t: Obj) => {
      const { action, result, blockHash: _h, transactionHash: _t, blockNumber: _n, ...rest } = t
      const { gas: _g, ...act } = action as Obj
      const { gasUsed: _u, ...res } = (result ?? {}) as Obj
      return { ...rest, action: act, result: res }
    }
    expect(flat.map(strip)).toEqual(parity.map(strip))
    // A failed call: geth's error wording unless convertParityErrors.
    const failed = (await trace(1, { tracer: 'flatCallTracer' }, 'reverted')) as Obj[]
    expect(failed[0]?.error).toBe('execution reverted')
    const parityWording = (await trace(
      1,
      { tracer: 'flatCallTracer', tracerConfig: { convertParityErrors: true } },
      'reverted',
    )) as Obj[]
    expect(parityWording[0]?.error).toBe('Reverted')
  })

  it('muxTracer: each tracer’s own answer, by name', async () => {
    const config = { callTracer: {}, '4byteTracer': {}, prestateTracer: { diffMode: true } }
    const mux = (await trace(1, { tracer: 'muxTracer', tracerConfig: config })) as Obj
    expect(mux).toEqual({
      callTracer: await trace(1, { tracer: 'callTracer' }),
      '4byteTracer': await trace(1, { tracer: '4byteTracer' }),
      prestateTracer: await trace(1, { tracer: 'prestateTracer', tracerConfig: { diffMode: true } }),
    })
  })

  it('the time limit stops a loop inside one frame, under every tracer', async () => {
    // JUMPDEST PUSH1 0 JUMP: loops until its gas runs out (30 M gas: seconds of work).
    const loop = { from: A0, data: '0x5b600056', gas: '0x1c9c380' }
    for (const config of [{}, { tracer: 'callTracer' }, { tracer: 'prestateTracer' }, { tracer: 'noopTracer' }]) {
      const t0 = Date.now()
      const r = (await rpcRequest(cairn.url, 'debug_traceCall', [
        loop,
        'latest',
        { ...config, timeout: '300ms' },
      ])) as Answer
      // The struct logger ({}) records every step: on a fast machine its 100,000-entry bound may stop
      // the loop before the time limit does (both bound it); the others record no steps.
      const stopped =
        'tracer' in config ? /execution aborted \(timeout = 0.3s\)/ : /timeout = 0.3s|exceeds 100000 struct logs/
      expect(r.error?.message, JSON.stringify(config)).toMatch(stopped)
      expect(Date.now() - t0).toBeLessThan(10_000)
    }
  })

  it('JavaScript tracers are refused with the reason', async () => {
    const r = (await rpcRequest(cairn.url, 'debug_traceTransaction', [
      txs[1],
      { tracer: '{data: [], step: function(log) {}, fault: function() {}, result: function() { return this.data }}' },
    ])) as Answer
    expect(r.error?.code).toBe(-32602)
    expect(r.error?.message).toMatch(/JavaScript tracers are not supported/)
  })
})
