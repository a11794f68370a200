// What a caller reads when a request is wrong: the message says what and how to fix it, never an
// @ethereumjs function's source, a wrong argument count or an internal error with a stack.
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, post, type StartedNode, startDevNode } from './live-node.ts'

const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const BEEF = '0x000000000000000000000000000000000000bEEF'

let node: StartedNode
beforeAll(async () => {
  node = await startDevNode()
})
afterAll(async () => {
  await node?.close()
})

describe('error messages', () => {
  it('a transaction signed for another chain says which chain, as geth', async () => {
    const raw = await privateKeyToAccount(KEY).signTransaction({
      chainId: 1,
      type: 'eip1559',
      to: BEEF,
      value: 1n,
      nonce: 0,
      gas: 21_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1n,
    })
    const r = await call(node.url, 'eth_sendRawTransaction', [raw])
    expect(r.error?.message).toBe('invalid sender: invalid chain id for signer: have 1 want 1337')
    expect(r.error?.message).not.toMatch(/return|=>|\{/)
  })

  it.each([
    ['eth_blockNumber', [1], 0],
    ['eth_chainId', [1, 2, 3], 0],
    ['eth_getBalance', [BEEF, 'latest', 1], 2],
    ['eth_getStorageAt', [BEEF, '0x0', 'latest', 1, 2], 3],
  ] as const)('%s with too many arguments names the most it takes', async (m, params, most) => {
    const r = await call(node.url, m, params)
    expect(r.error).toEqual({ code: -32602, message: `too many arguments, want at most ${most}` })
  })

  it('a deeply nested field anywhere in the params is invalid params, not an internal error', async () => {
    for (const depth of [33, 5_000, 100_000]) {
      const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
      const body = `{"jsonrpc":"2.0","id":9,"method":"eth_call","params":[{"to":"${BEEF}","nested":${deep}},"latest"]}`
      const r = await post(node.url, body)
      expect(r.json, String(depth)).toEqual({
        jsonrpc: '2.0',
        id: 9,
        error: { code: -32602, message: 'invalid params: nested deeper than 32 levels' },
      })
    }
    // Real calls are far shallower and pass.
    const ok = await call(node.url, 'eth_call', [{ to: BEEF, data: '0x' }, 'latest'])
    expect(ok.result).toBe('0x')
  })
})
