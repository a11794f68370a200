// Otterscan against a Cairn dev node: the calls its UI makes for the home, block, transaction and
// address pages (otterscan/otterscan src/useProvider.ts, useErigonHooks.ts, search/search.ts), with
// the parameters as it sends them (JSON numbers for blocks, pages and nonces), through ethers'
// JsonRpcProvider batching as Otterscan's does.
import { JsonRpcProvider } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, STORE_RUNTIME, send } from './bytecode.ts'
import { type StartedNode, startDevNode } from './live-node.ts'

const OTHER = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
/** Runtime: REVERT with the 4 bytes 0xdeadbeef. */
const REVERTER_RUNTIME = '63deadbeef60e01b60005260046000fd'
/** Runtime: CALL OTHER with the call's value (an internal transfer), then STOP. */
const FORWARDER_RUNTIME = `60006000600060003473${OTHER.slice(2)}5af100`

let node: StartedNode
let provider: JsonRpcProvider
const tx: Record<string, Record<string, unknown>> = {}
let store: string
let forwarder: string

beforeAll(async () => {
  node = await startDevNode()
  store = await deploy(node.url, STORE_RUNTIME)
  const reverter = await deploy(node.url, REVERTER_RUNTIME)
  forwarder = await deploy(node.url, FORWARDER_RUNTIME)
  tx.transfer = await send(node.url, { to: OTHER, value: '0xde0b6b3a7640000' })
  tx.reverted = await send(node.url, { to: reverter, gas: '0x186a0' })
  tx.internal = await send(node.url, { to: forwarder, value: '0x64', gas: '0x186a0' })
  provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true })
}, 60_000)
afterAll(async () => {
  provider?.destroy()
  await node?.close()
})

describe('Otterscan’s calls', () => {
  it('connects: eth_blockNumber, erigon_getHeaderByNumber with a JSON number, ots_getApiLevel ≥ 8', async () => {
    const n = await provider.getBlockNumber()
    const header = await provider.send('erigon_getHeaderByNumber', [n])
    expect(Number(header.number)).toBe(n)
    expect(header.hash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(header.transactions.every((t: unknown) => typeof t === 'string')).toBe(true)
    expect(await provider.send('erigon_getHeaderByNumber', [n + 1000])).toBeNull()
    expect(await provider.send('ots_getApiLevel', [])).toBeGreaterThanOrEqual(8)
  })

  it('home page: the latest blocks by number (ots_getBlockDetails)', async () => {
    const n = await provider.getBlockNumber()
    const pages = await Promise.all([n, n - 1, n - 2].map((b) => provider.send('ots_getBlockDetails', [b])))
    for (const [i, d] of pages.entries()) {
      expect(Number(d.block.number)).toBe(n - i)
      expect(d.block.transactionCount).toBe(Number(d.block.transactionCount))
      expect(d.block.size).toMatch(/^0x/)
      expect(d.issuance).toEqual({ blockReward: '0x0', uncleReward: '0x0', issuance: '0x0' })
      expect(d.totalFees).toMatch(/^0x/)
    }
    // Hex and tags answer the same.
    expect(await provider.send('ots_getBlockDetails', [`0x${n.toString(16)}`])).toEqual(pages[0])
    expect(await provider.send('ots_getBlockDetails', ['latest'])).toEqual(pages[0])
  })

  it('block page: details and a page of its transactions, numbers as JSON numbers', async () => {
    const n = Number(tx.internal?.blockNumber)
    const details = await provider.send('ots_getBlockDetailsByHash', [tx.internal?.blockHash])
    expect(Number(details.block.number)).toBe(n)
    const page = await provider.send('ots_getBlockTransactions', [n, 0, 25])
    expect(page.fullblock.transactionCount).toBe(1)
    expect(page.fullblock.transactions.map((t: { hash: string }) => t.hash)).toEqual([tx.internal?.transactionHash])
    expect(page.receipts).toHaveLength(1)
    expect(page.receipts[0].status).toBe('0x1')
    // Past the last page: empty.
    expect((await provider.send('ots_getBlockTransactions', [n, 1, 25])).fullblock.transactions).toEqual([])
  })

  it('transaction page: the transaction, its error, trace, internal operations and its neighbours by nonce', async () => {
    const hash = tx.internal?.transactionHash as string
    const [t, r] = await Promise.all([provider.getTransaction(hash), provider.getTransactionReceipt(hash)])
    expect(t?.hash).toBe(hash)
    expect(r?.status).toBe(1)
    const block = await provider.send('ots_getBlockDetails', [r?.blockNumber])
    expect(block.block.hash).toBe(r?.blockHash)

    expect(await provider.send('ots_getTransactionError', [hash])).toBe('0x')
    expect(await provider.send('ots_getTransactionError', [tx.reverted?.transactionHash])).toBe('0xdeadbeef')

    const trace = await provider.send('ots_traceTransaction', [hash])
    expect(trace).toEqual([
      expect.objectContaining({ type: 'CALL', depth: 0, from: ACCOUNT_0, to: forwarder.toLowerCase(), value: '0x64' }),
      expect.objectContaining({ type: 'CALL', depth: 1, from: forwarder.toLowerCase(), to: OTHER, value: '0x64' }),
    ])
    expect(await provider.send('ots_getInternalOperations', [hash])).toEqual([
      { type: 0, from: forwarder.toLowerCase(), to: OTHER, value: '0x64' },
    ])

    // Previous and next transaction of the sender, by nonce as a JSON number.
    const nonce = Number(t?.nonce)
    expect(await provider.send('ots_getTransactionBySenderAndNonce', [ACCOUNT_0, nonce])).toBe(hash)
    expect(await provider.send('ots_getTransactionBySenderAndNonce', [ACCOUNT_0, nonce - 1])).toBe(
      tx.reverted?.transactionHash,
    )
    expect(await provider.send('ots_getTransactionBySenderAndNonce', [ACCOUNT_0, nonce + 1])).toBeNull()
  })

  it('address page: history pages both ways, the creator, code and balance', async () => {
    const before = await provider.send('ots_searchTransactionsBefore', [OTHER, 0, 25])
    // Newest first: the internal transfer (OTHER is the callee of an inner frame), then the direct one.
    expect(before.txs.map((t: { hash: string }) => t.hash)).toEqual([
      tx.internal?.transactionHash,
      tx.transfer?.transactionHash,
    ])
    expect(before.receipts).toHaveLength(2)
    expect(before.firstPage).toBe(true)
    expect(before.lastPage).toBe(true)
    const after = await provider.send('ots_searchTransactionsAfter', [OTHER, 0, 25])
    expect(after.txs.map((t: { hash: string }) => t.hash)).toEqual(before.txs.map((t: { hash: string }) => t.hash))

    const creator = await provider.send('ots_getContractCreator', [store])
    expect(creator).toEqual({ hash: expect.stringMatching(/^0x[0-9a-f]{64}$/), creator: ACCOUNT_0 })
    expect(await provider.send('ots_getContractCreator', [OTHER])).toBeNull()
    expect(await provider.send('ots_hasCode', [store, 'latest'])).toBe(true)
    expect(await provider.send('ots_hasCode', [OTHER, 'latest'])).toBe(false)
    // An older block as a JSON number: before the store contract was deployed.
    expect(await provider.send('ots_hasCode', [store, 0])).toBe(false)
    expect(await provider.getBalance(OTHER)).toBeGreaterThan(0n)
    expect(await provider.getTransactionCount(ACCOUNT_0)).toBeGreaterThan(0)
  })

  it('refuses what is not a block number with a message saying what is expected', async () => {
    await expect(provider.send('ots_getBlockDetails', [-1])).rejects.toThrow(/expected a block number/)
    await expect(provider.send('ots_getBlockDetails', [1.5])).rejects.toThrow(/expected a block number/)
  })
})
