// Polled filters over real HTTP: block, pending-transaction and log filters, getFilterLogs,
// uninstall, and expiry of a filter nobody polls (the node runs with a 1.5 s filter timeout on a
// clock the test moves by hand: no waiting).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deploy, EMITTER_RUNTIME, send, TOPIC } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

const SOMEONE = '0x1111111111111111111111111111111111111111'
let node: StartedNode
let url: string
let emitter: string
/** The RPC's clock (ms): filter expiry reads it; the expiry test moves it. */
let clock = 1_000_000

beforeAll(async () => {
  node = await startDevNode({ filterTimeoutMs: 1500 }, { clockMs: () => clock })
  url = node.url
  emitter = await deploy(url, EMITTER_RUNTIME)
})
afterAll(async () => {
  await node?.close()
})

describe('eth_newBlockFilter', () => {
  it('returns each new block hash once', async () => {
    const id = await result<string>(url, 'eth_newBlockFilter')
    expect(id).toMatch(/^0x[0-9a-f]{32}$/)
    expect(await result(url, 'eth_getFilterChanges', [id])).toEqual([])
    const r = await send(url, { to: SOMEONE, value: '0x1' })
    expect(await result(url, 'eth_getFilterChanges', [id])).toEqual([r.blockHash])
    expect(await result(url, 'eth_getFilterChanges', [id])).toEqual([])
  })
})

describe('eth_newPendingTransactionFilter', () => {
  it('returns hashes of transactions that entered the pool', async () => {
    const id = await result<string>(url, 'eth_newPendingTransactionFilter')
    const r = await send(url, { to: SOMEONE, value: '0x2' })
    expect(await result(url, 'eth_getFilterChanges', [id])).toEqual([r.transactionHash])
  })
})

describe('eth_newFilter', () => {
  it('returns matching logs since the last poll; getFilterLogs returns all in range', async () => {
    const id = await result<string>(url, 'eth_newFilter', [{ address: emitter, topics: [TOPIC], fromBlock: '0x0' }])
    const other = await result<string>(url, 'eth_newFilter', [{ address: SOMEONE }])
    const r1 = await send(url, { to: emitter })
    const r2 = await send(url, { to: emitter })
    const changes = await result<Record<string, unknown>[]>(url, 'eth_getFilterChanges', [id])
    expect(changes.map((l) => l.transactionHash)).toEqual([r1.transactionHash, r2.transactionHash])
    expect(changes[0]).toMatchObject({ address: emitter, topics: [TOPIC], removed: false })
    expect(await result(url, 'eth_getFilterChanges', [id])).toEqual([])
    expect(await result(url, 'eth_getFilterChanges', [other])).toEqual([])
    const all = await result<Record<string, unknown>[]>(url, 'eth_getFilterLogs', [id])
    expect(all.map((l) => l.transactionHash)).toEqual([r1.transactionHash, r2.transactionHash])
  })

  it('a numeric toBlock in the past collects nothing new', async () => {
    const id = await result<string>(url, 'eth_newFilter', [{ address: emitter, toBlock: '0x1' }])
    await send(url, { to: emitter })
    expect(await result(url, 'eth_getFilterChanges', [id])).toEqual([])
  })

  it('validates its criteria at the edge', async () => {
    const r = await call(url, 'eth_newFilter', [{ address: '0x12' }])
    expect(r.error?.code).toBe(-32602)
  })
})

describe('uninstall and expiry', () => {
  it('eth_uninstallFilter removes a filter once; polling it then says "filter not found"', async () => {
    const id = await result<string>(url, 'eth_newBlockFilter')
    expect(await result(url, 'eth_uninstallFilter', [id])).toBe(true)
    expect(await result(url, 'eth_uninstallFilter', [id])).toBe(false)
    expect((await call(url, 'eth_getFilterChanges', [id])).error).toMatchObject({
      code: -32000,
      message: 'filter not found',
    })
  })

  it('eth_getFilterLogs refuses a block filter', async () => {
    const id = await result<string>(url, 'eth_newBlockFilter')
    expect((await call(url, 'eth_getFilterLogs', [id])).error?.message).toBe('filter not found')
  })

  it('a filter not polled within the timeout expires; one polled regularly lives on', async () => {
    const idle = await result<string>(url, 'eth_newBlockFilter')
    const busy = await result<string>(url, 'eth_newBlockFilter')
    for (let i = 0; i < 6; i++) {
      clock += 500
      await result(url, 'eth_getFilterChanges', [busy])
    }
    expect((await call(url, 'eth_getFilterChanges', [idle])).error?.message).toBe('filter not found')
    expect(await result(url, 'eth_getFilterChanges', [busy])).toEqual([])
  })
})
