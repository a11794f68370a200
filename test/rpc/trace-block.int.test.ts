// debug_traceBlockByNumber and debug_traceBlockByHash: geth's [{txHash, result}], each result
// exactly what debug_traceTransaction gives for that transaction (differential), with both tracers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, STORE_RUNTIME } from './bytecode.ts'
import { call, receipt, result, type StartedNode, startDevNode } from './live-node.ts'

type Obj = Record<string, unknown>

let node: StartedNode
let url: string
let block: Obj
let hashes: string[]
beforeAll(async () => {
  node = await startDevNode({}, { flags: { blockTime: 3600 } })
  url = node.url
  const store = await deploy(url, STORE_RUNTIME, { mine: true })
  // Three transactions in one block, the later ones reading what the earlier ones wrote.
  hashes = []
  for (const value of ['0x1', '0x2', '0x3']) {
    hashes.push(await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: store, value }]))
  }
  await result(url, 'evm_mine')
  const r = await receipt(url, hashes[2] as string)
  block = await result<Obj>(url, 'eth_getBlockByHash', [r.blockHash, false])
}, 30_000)
afterAll(async () => {
  await node?.close()
})

describe('debug_traceBlockBy*', () => {
  for (const config of [undefined, { tracer: 'callTracer' }, { enableMemory: true, disableStack: true }]) {
    it(`gives each transaction's own trace, in order (${JSON.stringify(config ?? 'default')})`, async () => {
      expect(block.transactions).toEqual(hashes)
      const expected = []
      for (const h of hashes) {
        expected.push({ txHash: h, result: await result(url, 'debug_traceTransaction', config ? [h, config] : [h]) })
      }
      const byNumber = await result(url, 'debug_traceBlockByNumber', config ? [block.number, config] : [block.number])
      expect(byNumber).toEqual(expected)
      const byHash = await result(url, 'debug_traceBlockByHash', config ? [block.hash, config] : [block.hash])
      expect(byHash).toEqual(expected)
    })
  }

  it('answers [] for a block without transactions', async () => {
    await result(url, 'evm_mine')
    expect(await result(url, 'debug_traceBlockByNumber', ['latest'])).toEqual([])
  })

  it('refuses genesis, unknown blocks and unknown tracers as geth does', async () => {
    const genesis = await result<Obj>(url, 'eth_getBlockByNumber', ['0x0', false])
    expect((await call(url, 'debug_traceBlockByNumber', ['0x0'])).error).toEqual({
      code: -32000,
      message: 'genesis is not traceable',
    })
    expect((await call(url, 'debug_traceBlockByHash', [genesis.hash])).error?.message).toBe('genesis is not traceable')
    const unknown = `0x${'00'.repeat(31)}01`
    expect((await call(url, 'debug_traceBlockByHash', [unknown])).error).toEqual({
      code: -32000,
      message: `block ${unknown} not found`,
    })
    expect((await call(url, 'debug_traceBlockByNumber', ['0xffff'])).error).toEqual({
      code: -32000,
      message: 'block #65535 not found',
    })
    expect((await call(url, 'debug_traceBlockByNumber', ['3'])).error?.code).toBe(-32602)
    expect((await call(url, 'debug_traceBlockByNumber', [block.number, { tracer: 'bigramTracer' }])).error?.code).toBe(
      -32602,
    )
  })
})
