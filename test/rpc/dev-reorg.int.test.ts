// anvil_reorg as Anvil 1.7 does it (answers compared with a real Anvil in
// packages/node/test/e2e/anvil-dev-methods.e2e.test.ts): the last `depth` blocks are replaced by new
// ones carrying the given transactions. Here what Anvil does not show over RPC: the old blocks stay
// readable by hash (a side branch), filters get the removed logs, the pool does not take the old
// transactions back, and the node keeps sealing on the new branch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, EMITTER_RUNTIME, send, TOPIC } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

const ACCOUNT_1 = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'
type RpcBlock = { number: string; hash: string; parentHash: string; transactions: string[] }

let node: StartedNode
let url: string
beforeAll(async () => {
  node = await startDevNode()
  url = node.url
})
afterAll(async () => {
  await node?.close()
})

const head = async () => result<RpcBlock>(url, 'eth_getBlockByNumber', ['latest', false])

describe('anvil_reorg', () => {
  it('replaces the last blocks with a branch carrying the given transactions; the old blocks stay as a side branch', async () => {
    const emitter = await deploy(url, EMITTER_RUNTIME)
    const filter = await result<string>(url, 'eth_newFilter', [{ address: emitter }])
    const blockFilter = await result<string>(url, 'eth_newBlockFilter', [])
    const logged = await send(url, { to: emitter })
    await send(url, { to: ACCOUNT_1, value: '0x2' })
    expect(await result<unknown[]>(url, 'eth_getFilterChanges', [filter])).toHaveLength(1)
    await result(url, 'eth_getFilterChanges', [blockFilter])
    // The address index sees the emitter's call (and caches the block's traces).
    type Page = { txs: { hash: string }[] }
    const search = async () =>
      (await result<Page>(url, 'ots_searchTransactionsBefore', [emitter, 0, 10])).txs.map((t) => t.hash)
    expect(await search()).toContain(logged.transactionHash)
    const oldHead = await head()
    const height = BigInt(oldHead.number)
    const nonce0 = BigInt(await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest']))
    const nonce1 = BigInt(await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_1, 'latest']))

    expect(
      await result(url, 'anvil_reorg', [
        2,
        [
          [{ from: ACCOUNT_1, to: ACCOUNT_0, value: '0x5' }, 1],
          [{ from: ACCOUNT_1, to: ACCOUNT_0, value: '0x6' }, 0],
          [{ from: ACCOUNT_1, to: ACCOUNT_0, value: '0x7' }, 1],
        ],
      ]),
    ).toBeNull()

    const newHead = await head()
    expect(BigInt(newHead.number)).toBe(height)
    expect(newHead.hash).not.toBe(oldHead.hash)
    const first = await result<RpcBlock>(url, 'eth_getBlockByNumber', [`0x${(height - 1n).toString(16)}`, false])
    expect(first.transactions).toHaveLength(1)
    expect(newHead.transactions).toHaveLength(2)
    expect(newHead.parentHash).toBe(first.hash)
    // The old blocks: readable by hash, no longer canonical; their transactions are not pooled again.
    expect((await result<RpcBlock>(url, 'eth_getBlockByHash', [oldHead.hash, false])).hash).toBe(oldHead.hash)
    expect(await result(url, 'eth_getTransactionReceipt', [logged.transactionHash])).toBeNull()
    expect(await result(url, 'txpool_status')).toEqual({ pending: '0x0', queued: '0x0' })
    expect(BigInt(await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest']))).toBe(nonce0 - 2n)
    expect(BigInt(await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_1, 'latest']))).toBe(nonce1 + 3n)
    // The replaced block's transaction is no longer in the address's history, nor in trace_filter.
    expect(await search()).not.toContain(logged.transactionHash)
    const traced = await result<{ transactionHash: string }[]>(url, 'trace_filter', [{ toAddress: [emitter] }])
    expect(traced.map((t) => t.transactionHash)).not.toContain(logged.transactionHash)
    // Filters: the old branch's log comes back removed; the block filter names the new blocks.
    const changes = await result<{ removed: boolean; topics: string[] }[]>(url, 'eth_getFilterChanges', [filter])
    expect(changes).toEqual([expect.objectContaining({ removed: true, topics: [TOPIC] })])
    expect(await result<string[]>(url, 'eth_getFilterChanges', [blockFilter])).toEqual([first.hash, newHead.hash])

    // Sealing goes on from the new branch.
    const next = await send(url, { to: ACCOUNT_1, value: '0x1' })
    expect(BigInt(next.blockNumber as string)).toBe(height + 1n)
    expect((await head()).parentHash).toBe(newHead.hash)
  })

  it('uses up the snapshots of replaced blocks; older ones still revert', async () => {
    const older = await result<string>(url, 'evm_snapshot')
    await result(url, 'evm_mine')
    const atHead = await result<string>(url, 'evm_snapshot')
    const kept = await head()
    await result(url, 'evm_mine')
    // A transaction in the first new block: an empty one sealed in the same second would be the old block again.
    await result(url, 'anvil_reorg', [2, [[{ from: ACCOUNT_1, to: ACCOUNT_0, value: '0x1' }, 0]]])
    expect(await result(url, 'evm_revert', [atHead])).toBe(false)
    expect((await head()).hash).not.toBe(kept.hash)
    expect(await result(url, 'evm_revert', [older])).toBe(true)
  })

  it('a block sealed again after a revert onto the old branch is the head, though a side block has its hash', async () => {
    // Fixed timestamps: the block sealed after the revert is the replaced one, byte for byte.
    await result(url, 'anvil_setBlockTimestampInterval', [1])
    try {
      const snap = await result<string>(url, 'evm_snapshot')
      await result(url, 'evm_mine')
      const replaced = await head()
      await result(url, 'anvil_reorg', [1, [[{ from: ACCOUNT_1, to: ACCOUNT_0, value: '0x1' }, 0]]])
      expect((await head()).hash).not.toBe(replaced.hash)
      expect(await result(url, 'evm_revert', [snap])).toBe(true)
      await result(url, 'evm_mine')
      expect(await head()).toEqual(replaced)
    } finally {
      await result(url, 'anvil_removeBlockTimestampInterval')
    }
  })

  it('takes raw signed transactions, and an empty list (empty blocks)', async () => {
    // An empty head: the raw transaction's nonce is the same on its parent.
    await result(url, 'evm_mine')
    const signed = await result<string>(url, 'eth_signTransaction', [
      {
        from: ACCOUNT_0,
        to: ACCOUNT_1,
        value: '0x9',
        nonce: await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest']),
      },
    ])
    const before = await head()
    await result(url, 'anvil_reorg', ['0x1', [[signed, 0]]])
    const after = await result<{ transactions: { value: string }[] }>(url, 'eth_getBlockByNumber', ['latest', true])
    expect(after.transactions.map((t) => t.value)).toEqual(['0x9'])
    await result(url, 'anvil_reorg', [3, []])
    const empty = await head()
    expect(empty.number).toBe(before.number)
    expect(empty.transactions).toEqual([])
  })

  it("refuses what Anvil refuses, with Anvil's messages", async () => {
    const height = BigInt((await head()).number)
    const deep = await call(url, 'anvil_reorg', [Number(height) + 5, []])
    expect(deep.error).toMatchObject({
      code: -32602,
      message: `Reorg depth must not exceed current chain height: current height ${height}, depth ${height + 5n}`,
    })
    const beyond = await call(url, 'anvil_reorg', [2, [[{ from: ACCOUNT_1, to: ACCOUNT_0 }, 2]]])
    expect(beyond.error).toMatchObject({
      code: -32602,
      message:
        'Block number for reorg tx will exceed the reorged chain height. Block number 2 must not exceed (depth-1) 1',
    })
    expect((await call(url, 'anvil_reorg', [1, [['0x1234', 0]]])).error).toMatchObject({
      code: -32602,
      message: 'Failed to decode transaction',
    })
    expect(BigInt((await head()).number)).toBe(height)
  })
})
