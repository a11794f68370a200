// eth_baseFee (the next block's base fee, as execution-apis' fee_market spec gives it) and
// eth_capabilities (what history the node serves: everything, it is an archive). Both were missing
// (-32601), failing the rpc-compat cases eth_baseFee/get-current-basefee and
// eth_capabilities/get-capabilities.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0 } from './bytecode.ts'
import { result, type StartedNode, startDevNode } from './live-node.ts'

type Obj = Record<string, unknown>

let node: StartedNode
beforeAll(async () => {
  node = await startDevNode({}, { flags: { blockTime: 3600 } })
})
afterAll(async () => {
  await node?.close()
})

describe('eth_baseFee', () => {
  it('is the base fee the next block then has, across full and empty blocks', async () => {
    for (const txs of [3, 0, 1]) {
      const predicted = await result<string>(node.url, 'eth_baseFee')
      for (let i = 0; i < txs; i++) {
        await result(node.url, 'eth_sendTransaction', [
          { from: ACCOUNT_0, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
        ])
      }
      await result(node.url, 'evm_mine')
      const latest = await result<Obj>(node.url, 'eth_getBlockByNumber', ['latest', false])
      expect(predicted).toBe(latest.baseFeePerGas)
    }
  })
})

describe('eth_capabilities', () => {
  it('names the head and serves every resource from block 0, with nothing deleted', async () => {
    const latest = await result<Obj>(node.url, 'eth_getBlockByNumber', ['latest', false])
    const all = { disabled: false, oldestBlock: '0x0' }
    expect(await result(node.url, 'eth_capabilities')).toEqual({
      head: { number: latest.number, hash: latest.hash },
      state: all,
      tx: all,
      logs: all,
      receipts: all,
      blocks: all,
      stateproofs: all,
    })
  })
})
