// evm_snapshot/evm_revert and the anvil_/hardhat_ state edits over real HTTP (dev mode).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, STORE_RUNTIME, send } from './bytecode.ts'
import { call, receipt, result, type StartedNode, startDevNode } from './live-node.ts'

const SOMEONE = '0x1111111111111111111111111111111111111111'
const FRESH = '0x2222222222222222222222222222222222222222'
const word = (hex: string) => `0x${hex.padStart(64, '0')}`

let node: StartedNode
let url: string
beforeAll(async () => {
  node = await startDevNode()
  url = node.url
})
afterAll(async () => {
  await node?.close()
})

describe('evm_snapshot / evm_revert', () => {
  it('reverts balances, head and transaction lookups, and new transactions mine on top', async () => {
    const head0 = await result<string>(url, 'eth_blockNumber')
    const block0 = await result<{ hash: string }>(url, 'eth_getBlockByNumber', [head0, false])
    const balance0 = await result<string>(url, 'eth_getBalance', [SOMEONE, 'latest'])
    const nonce0 = await result<string>(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest'])
    const id = await result<string>(url, 'evm_snapshot')
    expect(id).toMatch(/^0x[0-9a-f]+$/)

    const r1 = await send(url, { to: SOMEONE, value: '0x64' })
    const r2 = await send(url, { to: SOMEONE, value: '0x64' })
    expect(BigInt(await result<string>(url, 'eth_getBalance', [SOMEONE, 'latest']))).toBe(BigInt(balance0) + 200n)

    expect(await result(url, 'evm_revert', [id])).toBe(true)
    expect(await result(url, 'eth_blockNumber')).toBe(head0)
    expect((await result<{ hash: string }>(url, 'eth_getBlockByNumber', ['latest', false])).hash).toBe(block0.hash)
    expect(await result(url, 'eth_getBalance', [SOMEONE, 'latest'])).toBe(balance0)
    expect(await result(url, 'eth_getTransactionCount', [ACCOUNT_0, 'latest'])).toBe(nonce0)
    expect(await result(url, 'eth_getTransactionCount', [ACCOUNT_0, 'pending'])).toBe(nonce0)
    expect(await result(url, 'eth_getTransactionReceipt', [r1.transactionHash])).toBeNull()
    expect(await result(url, 'eth_getTransactionByHash', [r2.transactionHash])).toBeNull()
    expect(await result(url, 'eth_getBlockByNumber', [r2.blockNumber, false])).toBeNull()
    // Single use: the id is gone.
    expect(await result(url, 'evm_revert', [id])).toBe(false)

    // The pool forgot the reverted nonces: the next transaction reuses nonce0 and mines on top.
    // (The same transaction as r1 gives the same hash and an identical block content.)
    const r3 = await send(url, { to: SOMEONE, value: '0x64' })
    expect(BigInt(r3.blockNumber as string)).toBe(BigInt(head0) + 1n)
    const tx3 = await result<{ nonce: string }>(url, 'eth_getTransactionByHash', [r3.transactionHash])
    expect(tx3.nonce).toBe(nonce0)
    expect(BigInt(await result<string>(url, 'eth_getBalance', [SOMEONE, 'latest']))).toBe(BigInt(balance0) + 100n)
  })

  it('answers false for an unknown id', async () => {
    expect(await result(url, 'evm_revert', ['0x999'])).toBe(false)
  })
})

describe('anvil_ / hardhat_ state edits', () => {
  it('anvil_setBalance is visible at latest and spendable', async () => {
    const key = node.accounts[5]
    if (!key) throw new Error('dev account 5 missing')
    expect(await result(url, 'anvil_setBalance', [FRESH, '0xde0b6b3a7640000'])).toBeNull()
    expect(await result(url, 'eth_getBalance', [FRESH, 'latest'])).toBe('0xde0b6b3a7640000')
    expect(await result(url, 'hardhat_setBalance', [key.address, '0x1000000000000000'])).toBeNull()
    expect(await result(url, 'eth_getBalance', [key.address, 'latest'])).toBe('0x1000000000000000')
    const hash = await result<string>(url, 'eth_sendTransaction', [{ from: key.address, to: SOMEONE, value: '0x1' }])
    const r = await receipt(url, hash)
    expect(r.status).toBe('0x1')
  })

  it('anvil_setCode makes a callable contract; anvil_setStorageAt is readable', async () => {
    expect(await result(url, 'anvil_setCode', [FRESH, `0x${STORE_RUNTIME}`])).toBeNull()
    expect(await result(url, 'eth_getCode', [FRESH, 'latest'])).toBe(`0x${STORE_RUNTIME}`)
    expect(await result(url, 'eth_call', [{ to: FRESH, value: '0x2' }, 'latest'])).toBe(word('3'))
    expect(await result(url, 'anvil_setStorageAt', [FRESH, '0x5', word('2a')])).toBe(true)
    expect(await result(url, 'eth_getStorageAt', [FRESH, '0x5', 'latest'])).toBe(word('2a'))
    expect(await result(url, 'hardhat_setStorageAt', [SOMEONE, '0x0', word('7')])).toBe(true)
    expect(await result(url, 'eth_getStorageAt', [SOMEONE, '0x0', 'latest'])).toBe(word('7'))
  })

  it('anvil_setNonce is respected by the pool', async () => {
    const key = node.accounts[6]
    if (!key) throw new Error('dev account 6 missing')
    expect(await result(url, 'anvil_setNonce', [key.address, '0x20'])).toBeNull()
    expect(await result(url, 'eth_getTransactionCount', [key.address, 'latest'])).toBe('0x20')
    expect(await result(url, 'eth_getTransactionCount', [key.address, 'pending'])).toBe('0x20')
    const low = await call(url, 'eth_sendTransaction', [{ from: key.address, to: SOMEONE, nonce: '0x1f' }])
    expect(low.error?.message).toContain('nonce too low')
    const hash = await result<string>(url, 'eth_sendTransaction', [{ from: key.address, to: SOMEONE }])
    const tx = await result<{ nonce: string }>(url, 'eth_getTransactionByHash', [hash])
    expect(tx.nonce).toBe('0x20')
    expect((await receipt(url, hash)).status).toBe('0x1')
  })

  it('anvil_mine and hardhat_mine mine n blocks, interval seconds apart', async () => {
    const before = BigInt(await result<string>(url, 'eth_blockNumber'))
    await result(url, 'anvil_mine', ['0x3', '0x64'])
    const after = BigInt(await result<string>(url, 'eth_blockNumber'))
    expect(after).toBe(before + 3n)
    const a = await result<{ timestamp: string }>(url, 'eth_getBlockByNumber', [
      `0x${(after - 1n).toString(16)}`,
      false,
    ])
    const b = await result<{ timestamp: string }>(url, 'eth_getBlockByNumber', [`0x${after.toString(16)}`, false])
    expect(BigInt(b.timestamp) - BigInt(a.timestamp)).toBe(100n)
    expect(await result(url, 'hardhat_mine')).toBeNull()
    expect(BigInt(await result<string>(url, 'eth_blockNumber'))).toBe(after + 1n)
  })
})

describe('time and mining controls refuse what would hang the node or break headers', () => {
  it('evm_mine with a huge block count is refused at once, like anvil_mine, and mines nothing', async () => {
    const head = await result<string>(url, 'eth_blockNumber')
    for (const [m, params] of [
      ['evm_mine', [{ blocks: '0x3b9aca00' }]],
      ['anvil_mine', ['0x3b9aca00']],
    ] as const) {
      const r = await call(url, m, params)
      expect(r.error?.code, m).toBe(-32005)
      expect(r.error?.message).toBe('cannot mine 1000000000 blocks in one call (at most 10000)')
    }
    expect(await result(url, 'eth_blockNumber')).toBe(head)
  })

  it('evm_increaseTime and evm_setNextBlockTimestamp keep timestamps within 64 bits; blocks stay valid', async () => {
    const huge = `0x${'f'.repeat(64)}`
    // Past 64 bits: refused at the edge, as geth words it; within them but past the end of time: by the engine.
    const inc = await call(url, 'evm_increaseTime', [huge])
    expect(inc.error).toEqual({ code: -32602, message: 'invalid argument 0: hex number > 64 bits' })
    const far = await call(url, 'evm_increaseTime', ['0xffffffffffffffff'])
    expect(far.error?.message).toMatch(/past 2\^64-1/)
    const next = await call(url, 'evm_setNextBlockTimestamp', ['0x10000000000000000'])
    expect(next.error).toEqual({ code: -32602, message: 'invalid argument 0: hex number > 64 bits' })
    // The refused moves changed nothing: the next block is mined with a sane timestamp.
    const before = await result<{ timestamp: string }>(url, 'eth_getBlockByNumber', ['latest', false])
    await result(url, 'evm_mine')
    const after = await result<{ timestamp: string }>(url, 'eth_getBlockByNumber', ['latest', false])
    expect(BigInt(after.timestamp) - BigInt(before.timestamp)).toBeLessThan(3600n)
  })
})
