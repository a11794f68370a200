// Issue 48 §2: a header's timestamp is a uint64. The dev time controls (evm_setNextBlockTimestamp,
// evm_setTime, evm_increaseTime, anvil_setBlockTimestampInterval, anvil_mine's interval) never
// make a block whose timestamp passes 2^64-1: past 64 bits they are refused at the edge (-32602),
// a clock or interval that would pass it stops at 2^64-1, and no block follows one at 2^64-1
// (it used to get 2^64). Its own node: these scenarios leave the chain at the end of time.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

const MAX = 2n ** 64n - 1n
const MAX_HEX = '0xffffffffffffffff'

let node: StartedNode
let url: string
let snapshot: string

beforeAll(async () => {
  node = await startDevNode()
  url = node.url
})
afterAll(async () => {
  await node?.close()
})
beforeEach(async () => {
  snapshot = await result<string>(url, 'evm_snapshot')
})
afterEach(async () => {
  await result(url, 'anvil_removeBlockTimestampInterval')
  expect(await result(url, 'evm_revert', [snapshot])).toBe(true)
})

async function head(): Promise<{ number: bigint; timestamp: bigint }> {
  const b = await result<{ number: string; timestamp: string }>(url, 'eth_getBlockByNumber', ['latest', false])
  return { number: BigInt(b.number), timestamp: BigInt(b.timestamp) }
}

/** evm_mine after a block at 2^64-1: refused as the caller's (not an internal error), nothing sealed. */
async function expectNoBlockAfterTheLast(): Promise<void> {
  const before = await head()
  expect(before.timestamp).toBe(MAX)
  const r = await call(url, 'evm_mine', [])
  expect(r.error, JSON.stringify(r)).toBeDefined()
  expect(r.error?.code).not.toBe(-32603)
  expect(r.error?.message).toMatch(/2\^64-1/)
  expect(await head()).toEqual(before)
}

describe('dev time controls and the 64-bit timestamp', () => {
  it('evm_setNextBlockTimestamp: past 64 bits is -32602; 2^64-1 makes one block, and none follows it', async () => {
    for (const t of ['0x10000000000000000', `0x${(2n ** 200n).toString(16)}`]) {
      const r = await call(url, 'evm_setNextBlockTimestamp', [t])
      expect(r.error).toEqual({ code: -32602, message: 'invalid argument 0: hex number > 64 bits' })
    }
    expect(await result(url, 'evm_setNextBlockTimestamp', [MAX_HEX])).toBeNull()
    await result(url, 'evm_mine')
    await expectNoBlockAfterTheLast()
    // A sender would wait for a block that never comes (automine): refused at once instead.
    const from = node.accounts[0]?.address as string
    const sent = await call(url, 'eth_sendTransaction', [{ from, to: from, value: '0x1' }])
    expect(sent.error?.message, JSON.stringify(sent)).toMatch(/2\^64-1/)
  })

  it('evm_mine with a timestamp: past 64 bits is -32602; anvil_mine counts are bounded', async () => {
    const r = await call(url, 'evm_mine', [{ timestamp: '0x10000000000000000' }])
    expect(r.error).toEqual({ code: -32602, message: 'invalid argument 0 (field timestamp): hex number > 64 bits' })
    const many = await call(url, 'anvil_mine', ['0x10000000000000000'])
    expect(many.error).toEqual({ code: -32602, message: 'invalid argument 0: hex number > 64 bits' })
    const tooMany = await call(url, 'anvil_mine', [MAX_HEX])
    expect(tooMany.error?.message).toMatch(/at most 10000/)
    const before = await head()
    // Two blocks 2^64-1 s apart: the second would pass 2^64-1.
    const apart = await call(url, 'anvil_mine', ['0x2', MAX_HEX])
    expect(apart.error, JSON.stringify(apart)).toBeDefined()
    const after = await head()
    expect(after.number).toBe(before.number + 1n)
    expect(after.timestamp).toBeLessThanOrEqual(MAX)
  })

  it('evm_setTime to 2^64-1: the next block stops at 2^64-1, and none follows it', async () => {
    const r = await call(url, 'evm_setTime', ['0x10000000000000000'])
    expect(r.error).toEqual({ code: -32602, message: 'invalid argument 0: hex number > 64 bits' })
    await result(url, 'evm_setTime', [MAX_HEX])
    // The wall clock moves on from 2^64-1: still 2^64-1.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await result(url, 'evm_mine')
    await expectNoBlockAfterTheLast()
  })

  it('anvil_setBlockTimestampInterval of 2^64-1: the block stops at 2^64-1', async () => {
    const r = await call(url, 'anvil_setBlockTimestampInterval', ['0x10000000000000000'])
    expect(r.error).toEqual({ code: -32602, message: 'invalid argument 0: hex number > 64 bits' })
    await result(url, 'anvil_setBlockTimestampInterval', [MAX_HEX])
    await result(url, 'evm_mine')
    await expectNoBlockAfterTheLast()
  })

  it('evm_increaseTime: past 64 bits is -32602, and past the end of time refused', async () => {
    const r = await call(url, 'evm_increaseTime', ['0x10000000000000000'])
    expect(r.error).toEqual({ code: -32602, message: 'invalid argument 0: hex number > 64 bits' })
    const far = await call(url, 'evm_increaseTime', [MAX_HEX])
    expect(far.error?.message).toMatch(/2\^64-1/)
    await result(url, 'evm_mine')
    expect((await head()).timestamp).toBeLessThan(MAX)
  })
})
