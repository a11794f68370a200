// debug_traceTransaction and debug_traceCall (struct logger and callTracer) over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, STORE_RUNTIME, send } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

const word = (hex: string) => hex.padStart(64, '0')
/** Runtime: REVERT with Error("nope") (selector, offset, length, text: 100 bytes of memory). */
const REVERT_RUNTIME =
  `7f08c379a0${'00'.repeat(28)}600052` + // MSTORE(0, selector << 224)
  '6020600452' + // MSTORE(4, 0x20)
  '6004602452' + // MSTORE(0x24, 4)
  `7f${Buffer.from('nope').toString('hex')}${'00'.repeat(28)}604452` + // MSTORE(0x44, "nope")
  '60646000fd' // REVERT(0, 0x64)
/** Runtime: CALL a (65535 gas), POP, CALL b (65535 gas), RETURN the second call's success word. */
const parentRuntime = (a: string, b: string) =>
  `6000600060006000600073${a.slice(2)}61fffff150` + `6000600060006000600073${b.slice(2)}61fffff1` + '60005260206000f3'

type Log = { op: string; gas: number; gasCost: number; stack?: string[]; storage?: object; memory?: string[] }

let node: StartedNode
let url: string
let store: string
let reverter: string
let parent: string
beforeAll(async () => {
  node = await startDevNode()
  url = node.url
  store = await deploy(url, STORE_RUNTIME)
  reverter = await deploy(url, REVERT_RUNTIME)
  parent = await deploy(url, parentRuntime(store, reverter))
})
afterAll(async () => {
  await node?.close()
})

describe('callTracer', () => {
  it('gives the exact call tree of a transaction with a nested CALL and a reverting one', async () => {
    const r = await send(url, { to: parent, gas: '0x30000' })
    expect(r.status).toBe('0x1')
    const tree = await result(url, 'debug_traceTransaction', [r.transactionHash, { tracer: 'callTracer' }])
    expect(tree).toEqual({
      type: 'CALL',
      from: ACCOUNT_0,
      to: parent,
      value: '0x0',
      gas: '0x30000',
      gasUsed: r.gasUsed,
      input: '0x',
      output: `0x${word('0')}`,
      calls: [
        {
          type: 'CALL',
          from: parent,
          to: store,
          value: '0x0',
          gas: '0xffff',
          // PUSH1 CALLVALUE ADD PUSH1, SSTORE 0→1 on a cold slot (22100), PUSH1, SLOAD warm (100),
          // PUSH1, MSTORE (3 + 3 memory), PUSH1 PUSH1 RETURN
          gasUsed: `0x${(3 + 2 + 3 + 3 + 22100 + 3 + 100 + 3 + 6 + 3 + 3).toString(16)}`,
          input: '0x',
          output: `0x${word('1')}`,
        },
        {
          type: 'CALL',
          from: parent,
          to: reverter,
          value: '0x0',
          gas: '0xffff',
          gasUsed: `0x${(4 * (3 + 3 + 6) + 3 + 3).toString(16)}`,
          input: '0x',
          output: `0x08c379a0${word('20')}${word('4')}${Buffer.from('nope').toString('hex').padEnd(64, '0')}`,
          error: 'execution reverted',
          revertReason: 'nope',
        },
      ],
    })
    const top = await result(url, 'debug_traceTransaction', [
      r.transactionHash,
      { tracer: 'callTracer', tracerConfig: { onlyTopCall: true } },
    ])
    expect(top).not.toHaveProperty('calls')
    expect(top).toMatchObject({ type: 'CALL', to: parent, gasUsed: r.gasUsed })
  })

  it('traces a call object at a block, with STATICCALL frames and a contract creation', async () => {
    const tree = await result<Record<string, unknown>>(url, 'debug_traceCall', [
      { from: ACCOUNT_0, to: reverter, gas: '0x10000' },
      'latest',
      { tracer: 'callTracer' },
    ])
    expect(tree).toMatchObject({ type: 'CALL', from: ACCOUNT_0, to: reverter, gas: '0x10000' })
    expect(tree.error).toBe('execution reverted')
    expect(tree.revertReason).toBe('nope')
    expect(BigInt(tree.gasUsed as string)).toBe(21000n + 54n)
    const created = await result<Record<string, unknown>>(url, 'debug_traceCall', [
      { from: ACCOUNT_0, data: `0x600a600c600039600a6000f3${STORE_RUNTIME.slice(0, 20)}` },
      'latest',
      { tracer: 'callTracer' },
    ])
    expect(created.type).toBe('CREATE')
    expect(created.to).toMatch(/^0x[0-9a-f]{40}$/)
  })

  it('refuses unknown tracers and unknown transactions', async () => {
    const bad = await call(url, 'debug_traceCall', [{ to: store }, 'latest', { tracer: 'bigramTracer' }])
    expect(bad.error?.code).toBe(-32602)
    expect(bad.error?.message).toContain('bigramTracer')
    // JavaScript tracer code: refused, saying why.
    const js = await call(url, 'debug_traceCall', [
      { to: store },
      'latest',
      {
        tracer:
          '{data: [], step: function(log) { this.data.push(log.op.toString()) }, fault: function() {}, result: function() { return this.data }}',
      },
    ])
    expect(js.error?.code).toBe(-32602)
    expect(js.error?.message).toMatch(/^JavaScript tracers are not supported/)
    const missing = await call(url, 'debug_traceTransaction', [`0x${'11'.repeat(32)}`])
    expect(missing.error?.code).toBe(-32000)
  })
})

describe('struct logger', () => {
  it('logs every opcode of a tiny contract with geth gas, stack and storage', async () => {
    const r = await send(url, { to: store, gas: '0x20000' })
    const trace = await result<{ gas: number; failed: boolean; returnValue: string; structLogs: Log[] }>(
      url,
      'debug_traceTransaction',
      [r.transactionHash],
    )
    expect(trace.failed).toBe(false)
    expect(trace.gas).toBe(Number(r.gasUsed))
    expect(trace.returnValue).toBe(`0x${word('1')}`)
    const ops = trace.structLogs.map((l) => [l.op, l.gasCost])
    // The slot already holds 1 (set by the callTracer test): SSTORE 1→1 on a cold slot is 2100 + 100.
    expect(ops).toEqual([
      ['PUSH1', 3],
      ['CALLVALUE', 2],
      ['ADD', 3],
      ['PUSH1', 3],
      ['SSTORE', 2200],
      ['PUSH1', 3],
      ['SLOAD', 100],
      ['PUSH1', 3],
      ['MSTORE', 6],
      ['PUSH1', 3],
      ['PUSH1', 3],
      ['RETURN', 0],
    ])
    const first = trace.structLogs[0]
    expect(first).toEqual({ pc: 0, op: 'PUSH1', gas: 0x20000 - 21000, gasCost: 3, depth: 1, stack: [] })
    for (let i = 1; i < trace.structLogs.length; i++) {
      const prev = trace.structLogs[i - 1] as Log
      expect(trace.structLogs[i]?.gas).toBe(prev.gas - prev.gasCost)
    }
    expect(trace.structLogs[2]?.stack).toEqual(['0x1', '0x0'])
    expect(trace.structLogs[4]?.storage).toEqual({ [word('0')]: word('1') })
    expect(trace.structLogs[6]?.storage).toEqual({ [word('0')]: word('1') })
    expect(trace.structLogs[0]).not.toHaveProperty('memory')

    const lean = await result<{ structLogs: Log[] }>(url, 'debug_traceTransaction', [
      r.transactionHash,
      { disableStack: true, disableStorage: true, enableMemory: true },
    ])
    expect(lean.structLogs[2]).not.toHaveProperty('stack')
    expect(lean.structLogs[4]).not.toHaveProperty('storage')
    expect(lean.structLogs[11]?.memory).toEqual([word('1')])
  })

  it('traces a call object (debug_traceCall) with a state override', async () => {
    const trace = await result<{ gas: number; failed: boolean; structLogs: Log[] }>(url, 'debug_traceCall', [
      { from: ACCOUNT_0, to: store, value: '0x4' },
      'latest',
      { stateOverrides: { [store]: { stateDiff: { '0x0': `0x${word('0')}` } } } },
    ])
    expect(trace.failed).toBe(false)
    expect(trace.structLogs.map((l) => l.op)).toContain('SSTORE')
    const sstore = trace.structLogs.find((l) => l.op === 'SSTORE') as Log
    expect(sstore.gasCost).toBe(22100)
    expect(sstore.storage).toEqual({ [word('0')]: word('5') })
    // 21000 + 22229 for the code path with CALLVALUE 4 (SSTORE 0→5), no refund.
    expect(trace.gas).toBe(21000 + 22229)
  })

  it('refuses a trace longer than the struct log limit, and times out an endless loop', async () => {
    const small = await startDevNode({ traceStructLogLimit: 5, evmTimeoutMs: 300 })
    try {
      const loop = await deploy(small.url, '5b600056')
      const r = await call(small.url, 'debug_traceCall', [{ to: store.slice(0, 2) + '00'.repeat(20) }, 'latest'])
      expect(r.error).toBeUndefined()
      const tooLong = await call(small.url, 'debug_traceCall', [{ to: loop, gas: '0x100000' }, 'latest'])
      expect(tooLong.error).toMatchObject({ code: -32005 })
      expect(tooLong.error?.message).toContain('5 struct logs')
      const slow = await call(small.url, 'debug_traceCall', [
        { to: loop, gas: '0x2faf080' },
        'latest',
        { tracer: 'callTracer' },
      ])
      expect(slow.error).toMatchObject({ code: -32002 })
    } finally {
      await small.close()
    }
  })
})
