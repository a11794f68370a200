// Result shapes and parameter forms as the execution-apis spec and geth give them (issue 14, item 6):
// blockTimestamp on transactions, totalDifficulty only on a dev chain (Anvil's), eth_getBlockReceipts by hash, eth_getProof's
// default block, eth_getLogs' range errors, eth_getStorageValues. Over real HTTP on a dev node that
// seals only when told (blockTime 3600 + evm_mine), so a block can hold several transactions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, EMITTER_RUNTIME, STORE_RUNTIME } from './bytecode.ts'
import { call, receipt, result, type StartedNode, startDevNode } from './live-node.ts'

type Obj = Record<string, unknown>

let node: StartedNode
let url: string
let store: string
let block: Obj
let hashes: string[]
beforeAll(async () => {
  node = await startDevNode({}, { flags: { blockTime: 3600 } })
  url = node.url
  store = await deploy(url, STORE_RUNTIME, { mine: true })
  // Two transactions sealed into one block.
  hashes = [
    await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: store, value: '0x5' }]),
    await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: store, value: '0x7' }]),
  ]
  await result(url, 'evm_mine')
  const r = await receipt(url, hashes[1] as string)
  block = await result<Obj>(url, 'eth_getBlockByHash', [r.blockHash, true])
}, 30_000)
afterAll(async () => {
  await node?.close()
})

describe('transaction objects', () => {
  it('carry the blockTimestamp of the block that holds them, everywhere a mined transaction is shown', async () => {
    expect(block.transactions).toHaveLength(2)
    for (const tx of block.transactions as Obj[]) expect(tx.blockTimestamp).toBe(block.timestamp)
    const byHash = await result<Obj>(url, 'eth_getTransactionByHash', [hashes[0]])
    const byNumber = await result<Obj>(url, 'eth_getTransactionByBlockNumberAndIndex', [block.number, '0x1'])
    const byBlockHash = await result<Obj>(url, 'eth_getTransactionByBlockHashAndIndex', [block.hash, '0x0'])
    expect(byHash.blockTimestamp).toBe(block.timestamp)
    expect(byNumber.blockTimestamp).toBe(block.timestamp)
    expect(byBlockHash).toEqual(byHash)
  })

  it('a pending transaction has blockHash, blockNumber, blockTimestamp and transactionIndex null (as geth)', async () => {
    const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: store }])
    const tx = await result<Obj>(url, 'eth_getTransactionByHash', [hash])
    expect(tx).toMatchObject({ blockHash: null, blockNumber: null, blockTimestamp: null, transactionIndex: null })
    await result(url, 'evm_mine')
    await receipt(url, hash)
  })
})

describe('block objects', () => {
  it("have the spec header fields, and on a dev chain Anvil's totalDifficulty (0: no difficulty)", async () => {
    const latest = await result<Obj>(url, 'eth_getBlockByNumber', ['latest', false])
    // geth dropped totalDifficulty after the merge (a chain that is not dev answers none: hive's
    // rpc-compat in conformance/ compares blocks field for field); Anvil, the dev chain's reference, keeps it.
    expect(latest.totalDifficulty).toBe('0x0')
    const header = await new Promise<Obj>((resolve) => resolve(latest))
    for (const key of ['difficulty', 'mixHash', 'nonce', 'size', 'uncles', 'transactions']) {
      expect(header).toHaveProperty(key)
    }
  })
})

describe('eth_getBlockReceipts', () => {
  it('takes a block hash, {blockHash}, {blockNumber} and a number alike', async () => {
    const byNumber = await result<Obj[]>(url, 'eth_getBlockReceipts', [block.number])
    expect(byNumber).toHaveLength(2)
    expect(await result(url, 'eth_getBlockReceipts', [block.hash])).toEqual(byNumber)
    expect(await result(url, 'eth_getBlockReceipts', [{ blockHash: block.hash }])).toEqual(byNumber)
    expect(await result(url, 'eth_getBlockReceipts', [{ blockNumber: block.number }])).toEqual(byNumber)
  })

  it('answers null for an unknown hash (as geth)', async () => {
    expect(await result(url, 'eth_getBlockReceipts', [`0x${'00'.repeat(28)}deadbeef`])).toBeNull()
  })
})

describe('eth_getProof', () => {
  it('defaults its block to latest', async () => {
    const latest = await result(url, 'eth_getProof', [store, ['0x0'], 'latest'])
    expect(await result(url, 'eth_getProof', [store, ['0x0']])).toEqual(latest)
  })

  it('takes a bare block hash', async () => {
    const byNumber = await result(url, 'eth_getProof', [store, ['0x0'], block.number])
    expect(await result(url, 'eth_getProof', [store, ['0x0'], block.hash])).toEqual(byNumber)
  })
})

describe('eth_getLogs ranges (geth: eth/filters)', () => {
  it('refuses a range reaching past the head with -32602 "block range extends beyond current head block"', async () => {
    const head = BigInt(await result<string>(url, 'eth_blockNumber'))
    const r = await call(url, 'eth_getLogs', [{ fromBlock: '0x1', toBlock: `0x${(head + 5n).toString(16)}` }])
    expect(r.error).toEqual({ code: -32602, message: 'block range extends beyond current head block' })
  })

  it('refuses a reversed range, also a fromBlock past the head up to latest, with "invalid block range params"', async () => {
    const head = BigInt(await result<string>(url, 'eth_blockNumber'))
    const reversed = await call(url, 'eth_getLogs', [{ fromBlock: '0x2', toBlock: '0x1' }])
    expect(reversed.error).toEqual({ code: -32602, message: 'invalid block range params' })
    const future = await call(url, 'eth_getLogs', [{ fromBlock: `0x${(head + 1n).toString(16)}` }])
    expect(future.error).toEqual({ code: -32602, message: 'invalid block range params' })
  })

  it('refuses blockHash with a range, and pending, with -32602', async () => {
    const both = await call(url, 'eth_getLogs', [{ blockHash: block.hash, fromBlock: '0x1' }])
    expect(both.error).toEqual({ code: -32602, message: "can't specify fromBlock/toBlock with blockHash" })
    const pending = await call(url, 'eth_getLogs', [{ toBlock: 'pending' }])
    expect(pending.error).toEqual({ code: -32602, message: 'pending logs are not supported' })
  })

  it('still answers a range ending at the head', async () => {
    expect(await result(url, 'eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest' }])).toEqual([])
  })
})

describe('eth_getStorageValues', () => {
  const slot0 = `0x${'00'.repeat(32)}`
  it('reads many slots of many accounts, zero for unknown accounts, at latest by default', async () => {
    const nobody = `0x${'c1'.repeat(20)}`
    const got = await result<Record<string, string[]>>(url, 'eth_getStorageValues', [
      { [store]: [slot0, '0x1'], [nobody]: [slot0] },
    ])
    const value = await result<string>(url, 'eth_getStorageAt', [store, '0x0', 'latest'])
    expect(got).toEqual({ [store]: [value, `0x${'00'.repeat(32)}`], [nobody]: [`0x${'00'.repeat(32)}`] })
    // At the block of the two transactions: the second one's CALLVALUE + 1.
    expect(await result(url, 'eth_getStorageValues', [{ [store]: [slot0] }, block.hash])).toEqual({
      [store]: [`0x${'08'.padStart(64, '0')}`],
    })
    // At the block before the two transactions: the deploy's state.
    const before = `0x${(BigInt(block.number as string) - 1n).toString(16)}`
    expect(await result(url, 'eth_getStorageValues', [{ [store]: [slot0] }, before])).toEqual({
      [store]: [`0x${'00'.repeat(32)}`],
    })
  })

  it('refuses an empty request (-32602) and more than 1,024 slots (-38026), as geth', async () => {
    expect((await call(url, 'eth_getStorageValues', [{}, 'latest'])).error).toEqual({
      code: -32602,
      message: 'empty request',
    })
    const many = Array.from({ length: 1025 }, (_, i) => `0x${i.toString(16)}`)
    expect((await call(url, 'eth_getStorageValues', [{ [store]: many }])).error).toEqual({
      code: -38026,
      message: 'too many slots (max 1024)',
    })
  })
})

// Last: it emits a log (the range tests above expect none).
describe('receipts and logs on a dev chain (as Anvil)', () => {
  it('carry blockTimestamp: eth_getTransactionReceipt, eth_getBlockReceipts, their logs, eth_getLogs and log filters', async () => {
    const emitter = await deploy(url, EMITTER_RUNTIME, { mine: true })
    const filter = await result<string>(url, 'eth_newFilter', [{ address: emitter }])
    const hash = await result<string>(url, 'eth_sendTransaction', [{ from: ACCOUNT_0, to: emitter }])
    await result(url, 'evm_mine')
    const r = await receipt(url, hash)
    const b = await result<Obj>(url, 'eth_getBlockByHash', [r.blockHash, false])
    // Anvil's receipts: a JSON number; their logs: a quantity.
    expect(r.blockTimestamp).toBe(Number(b.timestamp))
    const [log] = r.logs as Obj[]
    expect(log?.blockTimestamp).toBe(b.timestamp)
    const [inBlock] = await result<Obj[]>(url, 'eth_getBlockReceipts', [r.blockHash])
    expect(inBlock).toEqual(r)
    expect(await result(url, 'eth_getLogs', [{ blockHash: r.blockHash }])).toEqual([log])
    expect(await result(url, 'eth_getFilterChanges', [filter])).toEqual([log])
    for (const earlier of await result<Obj[]>(url, 'eth_getBlockReceipts', [block.number])) {
      expect(earlier.blockTimestamp).toBe(Number(block.timestamp))
    }
  })
})
