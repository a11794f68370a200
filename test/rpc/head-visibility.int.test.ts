import type { KVStore } from '@cairn/db'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { result, type StartedNode, startDevNode } from './live-node.ts'

describe('a block is never visible through the RPC before the head moves to it', () => {
  let node: StartedNode
  let delayMs = 0
  beforeAll(async () => {
    node = await startDevNode()
    // A block's batch becomes readable when the store applies it, a moment before the write's
    // promise settles and the head moves. Widen that moment: apply at once, settle later.
    const kv = node.kv as KVStore
    const batch = kv.batch.bind(kv)
    kv.batch = async (ops) => {
      await batch(ops)
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
    }
  })
  afterAll(async () => {
    await node?.close()
  })

  it('eth_getTransactionReceipt / ByHash stay null until eth_blockNumber reaches the block', async () => {
    const from = node.accounts[0]?.address
    delayMs = 400
    const hash = (await result(node.url, 'eth_sendTransaction', [
      { from, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
    ])) as string
    let sawReceipt = false
    for (let i = 0; i < 100 && !sawReceipt; i++) {
      const receipt = (await result(node.url, 'eth_getTransactionReceipt', [hash])) as { blockNumber: string } | null
      const tx = (await result(node.url, 'eth_getTransactionByHash', [hash])) as { blockNumber: string | null } | null
      const head = BigInt(await result<string>(node.url, 'eth_blockNumber'))
      if (receipt) {
        sawReceipt = true
        expect(BigInt(receipt.blockNumber)).toBeLessThanOrEqual(head)
      }
      // Pending (blockNumber null) or mined at or below the head, never above it.
      if (tx?.blockNumber) expect(BigInt(tx.blockNumber)).toBeLessThanOrEqual(head)
      await new Promise((r) => setTimeout(r, 20))
    }
    delayMs = 0
    expect(sawReceipt).toBe(true)
  })
})
