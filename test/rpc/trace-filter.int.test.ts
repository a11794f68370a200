// Parity's trace_block (one replay of the block) agrees with trace_transaction of each of its
// transactions, and trace_filter's modes and limits (answers compared with Anvil in
// packages/node/test/e2e/anvil-dev-methods.e2e.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

const ACCOUNT_1 = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
const SOMEONE = '0x1111111111111111111111111111111111111111'

let node: StartedNode
let url: string
beforeAll(async () => {
  node = await startDevNode({ logsBlockRange: 100 })
  url = node.url
})
afterAll(async () => {
  await node?.close()
})

type Trace = { transactionHash: string; action: { from: string; to: string } }

describe('trace_block and trace_filter', () => {
  it('trace_block is the traces of its transactions in order; filters by sender, recipient and mode', async () => {
    await result(url, 'evm_setAutomine', [false])
    const hashes = [
      await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: SOMEONE, value: '0x1' }]),
      await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_1, to: SOMEONE, value: '0x2' }]),
      await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: ACCOUNT_1, value: '0x3' }]),
    ]
    await result(url, 'evm_mine')
    await result(url, 'evm_setAutomine', [true])
    // In the block's order (the builder's price-and-nonce order, not the sending order).
    const order = (await result<{ transactions: string[] }>(url, 'eth_getBlockByNumber', ['latest', false]))
      .transactions
    expect([...order].sort()).toEqual([...hashes].sort())
    const block = await result<Trace[]>(url, 'trace_block', ['latest'])
    const each = await Promise.all(order.map((h) => result<Trace[]>(url, 'trace_transaction', [h])))
    expect(block).toEqual(each.flat())
    const inOrder = (...hs: (string | undefined)[]) => order.filter((h) => hs.includes(h))

    const filter = async (f: Record<string, unknown>) =>
      (await result<Trace[]>(url, 'trace_filter', [{ fromBlock: 'latest', ...f }])).map((t) => t.transactionHash)
    expect(await filter({ fromAddress: [ACCOUNT_0] })).toEqual(inOrder(hashes[0], hashes[2]))
    expect(await filter({ toAddress: [SOMEONE] })).toEqual(inOrder(hashes[0], hashes[1]))
    expect(await filter({ fromAddress: [ACCOUNT_0], toAddress: [SOMEONE] })).toEqual(order)
    expect(await filter({ fromAddress: [ACCOUNT_0], toAddress: [SOMEONE], mode: 'intersection' })).toEqual([hashes[0]])
    expect(await filter({ after: 1, count: 1 })).toEqual([order[1]])
  })

  it('refuses a range over the limit, and one past the head', async () => {
    await result(url, 'anvil_mine', [120])
    const wide = await call(url, 'trace_filter', [{ fromBlock: '0x0' }])
    expect(wide.error).toMatchObject({ code: -32602, message: expect.stringContaining('at most 100 blocks') })
    const past = await call(url, 'trace_filter', [{ fromBlock: '0xffffff' }])
    expect(past.error).toMatchObject({
      code: -32602,
      message: 'invalid block range, ensure that to block is greater than from block',
    })
  })
  it('trace_replayTransaction is its block replay entry; trace_call traces a call; vmTrace is refused', async () => {
    const sent = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: SOMEONE, value: '0x5' }])
    const one = await result<Record<string, unknown>>(url, 'trace_replayTransaction', [sent, ['trace', 'stateDiff']])
    const block = await result<Record<string, unknown>[]>(url, 'trace_replayBlockTransactions', [
      'latest',
      ['trace', 'stateDiff'],
    ])
    expect(block).toEqual([{ ...one, transactionHash: sent }])
    const diff = one.stateDiff as Record<string, { balance: unknown; nonce: unknown }>
    expect(diff[SOMEONE]?.balance).toMatchObject({ '*': expect.anything() })
    expect(diff[ACCOUNT_0]?.nonce).toMatchObject({ '*': expect.anything() })
    expect(await result(url, 'trace_replayTransaction', [`0x${'00'.repeat(32)}`, ['trace']])).toBeNull()

    const traced = await result<{ output: string; trace: { type: string; action: { to: string; value: string } }[] }>(
      url,
      'trace_call',
      [{ from: ACCOUNT_0, to: SOMEONE, value: '0x7' }, ['trace'], 'latest'],
    )
    expect(traced).toMatchObject({ output: '0x', stateDiff: null, vmTrace: null })
    expect(traced.trace).toEqual([
      expect.objectContaining({ type: 'call', action: expect.objectContaining({ to: SOMEONE, value: '0x7' }) }),
    ])
    for (const [m, p] of [
      ['trace_replayTransaction', [sent, ['vmTrace']]],
      ['trace_call', [{ from: ACCOUNT_0, to: SOMEONE }, ['stateDiff']]],
    ] as const) {
      expect((await call(url, m, [...p])).error).toMatchObject({
        code: -32602,
        message: expect.stringContaining('not supported'),
      })
    }
  })

  it('trace_callMany: each call sees the writes of those before it', async () => {
    // An accumulator: slot 0 += CALLVALUE, returns the new slot 0.
    const store = await deploy(url, '60005434018060005560005260206000f3')
    const out = await result<{ output: string; trace: { action: { to: string } }[]; stateDiff: null }[]>(
      url,
      'trace_callMany',
      [
        [
          [{ from: ACCOUNT_0, to: store, value: '0x4' }, ['trace']],
          [{ from: ACCOUNT_0, to: store, value: '0x3' }, []],
        ],
        'latest',
      ],
    )
    expect(out.map((o) => BigInt(o.output))).toEqual([4n, 7n])
    expect(out[0]?.trace).toEqual([expect.objectContaining({ action: expect.objectContaining({ to: store }) })])
    expect(out[1]?.trace).toEqual([])
    // Nothing reached the chain.
    expect(BigInt(await result<string>(url, 'eth_getStorageAt', [store, '0x0', 'latest']))).toBe(0n)
    const refused = await call(url, 'trace_callMany', [[[{ from: ACCOUNT_0, to: store }, ['stateDiff']]]])
    expect(refused.error).toMatchObject({ code: -32602, message: expect.stringContaining('not supported') })
  })

  it('trace_rawTransaction traces a signed transaction without sending it; trace_get picks one entry', async () => {
    const nonce = await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest'])
    const raw = await result<string>(url, 'eth_signTransaction', [
      { from: ACCOUNT_0, to: SOMEONE, value: '0x9', nonce },
    ])
    const traced = await result<{ trace: { action: { from: string; to: string; value: string } }[] }>(
      url,
      'trace_rawTransaction',
      [raw, ['trace']],
    )
    expect(traced.trace).toEqual([
      expect.objectContaining({ action: expect.objectContaining({ from: ACCOUNT_0, to: SOMEONE, value: '0x9' }) }),
    ])
    expect(await result(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest'])).toBe(nonce)
    const sent = await result<string>(url, 'eth_sendRawTransaction', [raw])
    const all = await result<unknown[]>(url, 'trace_transaction', [sent])
    expect(await result(url, 'trace_get', [sent, ['0x0']])).toEqual(all[0])
    expect(await result(url, 'trace_get', [sent, [1]])).toBeNull()
    expect(await result(url, 'trace_get', [sent, [0, 0]])).toBeNull()
  })
})
