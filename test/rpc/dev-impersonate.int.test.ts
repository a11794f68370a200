import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, receipt, result, type StartedNode, startDevNode } from './live-node.ts'

const WHO = '0x00000000000000000000000000000000000000a1'
const OTHER = '0x00000000000000000000000000000000000000a2'
const TO = '0x000000000000000000000000000000000000beef'
let node: StartedNode
let url: string

beforeAll(async () => {
  node = await startDevNode()
  url = node.url
  await result(url, 'anvil_setBalance', [WHO, '0xde0b6b3a7640000'])
  await result(url, 'anvil_setBalance', [OTHER, '0xde0b6b3a7640000'])
})
afterAll(async () => {
  await node?.close()
})

describe('anvil_impersonateAccount', () => {
  it('sends as an address without its key, with the right sender everywhere, until stopped', async () => {
    const refused = await call(url, 'eth_sendTransaction', [{ from: WHO, to: TO, value: '0x3e8' }])
    expect(refused.error?.message).toBe('unknown account')

    expect(await result(url, 'anvil_impersonateAccount', [WHO])).toBeNull()
    const hash = await result<string>(url, 'eth_sendTransaction', [{ from: WHO, to: TO, value: '0x3e8' }])
    const r = await receipt(url, hash)
    expect(r.status).toBe('0x1')
    expect(r.from).toBe(WHO)
    expect(await result(url, 'eth_getBalance', [TO, 'latest'])).toBe('0x3e8')
    expect(((await result(url, 'eth_getTransactionByHash', [hash])) as { from: string }).from).toBe(WHO)
    // read back from the database, not from the block cache (the head stays where it is)
    const head = node.chain.head.hash()
    expect(await node.chain.followHead(head, { clearCaches: true, reloadEdits: false })).toBe(true)
    expect(((await result(url, 'eth_getTransactionByHash', [hash])) as { from: string }).from).toBe(WHO)
    expect(await result(url, 'eth_getTransactionCount', [WHO, 'latest'])).toBe('0x1')

    expect(await result(url, 'hardhat_stopImpersonatingAccount', [WHO])).toBeNull()
    const after = await call(url, 'eth_sendTransaction', [{ from: WHO, to: TO, value: '0x1' }])
    expect(after.error?.message).toBe('unknown account')
  })

  it('two impersonated senders with identical transactions get distinct hashes and both mine', async () => {
    await result(url, 'hardhat_impersonateAccount', [OTHER])
    await result(url, 'anvil_impersonateAccount', [WHO])
    const tx = {
      to: TO,
      value: '0x1',
      gas: '0x5208',
      maxFeePerGas: '0x77359400',
      maxPriorityFeePerGas: '0x1',
      nonce: '0x1',
    }
    const a = await result<string>(url, 'eth_sendTransaction', [{ ...tx, from: WHO }])
    const b = await result<string>(url, 'eth_sendTransaction', [{ ...tx, from: OTHER, nonce: '0x0' }])
    expect(a).not.toBe(b)
    expect((await receipt(url, a)).from).toBe(WHO)
    expect((await receipt(url, b)).from).toBe(OTHER)
  })
})
