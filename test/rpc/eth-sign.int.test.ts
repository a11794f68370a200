// eth_sign, personal_sign, eth_signTypedData_v4 and eth_fillTransaction over real HTTP, checked
// against viem (an independent implementation of EIP-191, EIP-712 and transaction encoding).

import { bytesToHex } from '@cairn/utils'
import {
  createWalletClient,
  http,
  parseTransaction,
  recoverMessageAddress,
  recoverTypedDataAddress,
  type TypedDataDefinition,
  hashTypedData as viemHashTypedData,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashTypedData } from '../../packages/rpc/src/eip712.ts'
import { call, receipt, result, type StartedNode, startDevNode } from './live-node.ts'

const ACCOUNT_0 = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'
const KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const SOMEONE = '0x1111111111111111111111111111111111111111'

let node: StartedNode
let url: string
beforeAll(async () => {
  node = await startDevNode()
  url = node.url
})
afterAll(async () => {
  await node?.close()
})

const mail = {
  domain: {
    name: 'Ether Mail',
    version: '1',
    chainId: 1337,
    verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
  },
  types: {
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallets', type: 'address[]' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person[]' },
      { name: 'contents', type: 'string' },
      { name: 'tag', type: 'bytes4' },
      { name: 'amount', type: 'int128' },
      { name: 'flag', type: 'bool' },
      { name: 'blob', type: 'bytes' },
    ],
  },
  primaryType: 'Mail',
  message: {
    from: { name: 'Cow', wallets: ['0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826'] },
    to: [
      {
        name: 'Bob',
        wallets: ['0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB', '0xB0B0b0b0b0b0B000000000000000000000000000'],
      },
    ],
    contents: 'Hello, Bob!',
    tag: '0xdeadbeef',
    amount: -42,
    flag: true,
    blob: '0x0102030405',
  },
} as const

describe('EIP-712 hashing', () => {
  it('matches viem for nested structs, arrays, signed ints, bytesN and dynamic bytes', () => {
    expect(bytesToHex(hashTypedData(structuredClone(mail) as never))).toBe(
      viemHashTypedData(mail as unknown as TypedDataDefinition),
    )
  })

  it('matches viem for a domain-only message and a domain with a salt', () => {
    const d = {
      domain: { name: 'x', salt: `0x${'11'.repeat(32)}` },
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'salt', type: 'bytes32' },
        ],
      },
      primaryType: 'EIP712Domain',
      message: {},
    } as const
    expect(bytesToHex(hashTypedData(structuredClone(d) as never))).toBe(
      viemHashTypedData(d as unknown as TypedDataDefinition),
    )
  })
})

describe('eth_sign / personal_sign', () => {
  it('signs EIP-191 messages that recover to the account', async () => {
    const message = '0x68656c6c6f' // "hello"
    const sig = await result<string>(url, 'eth_sign', [ACCOUNT_0, message])
    expect(sig).toMatch(/^0x[0-9a-f]{130}$/)
    expect(['1b', '1c']).toContain(sig.slice(-2))
    expect(
      (await recoverMessageAddress({ message: { raw: message }, signature: sig as `0x${string}` })).toLowerCase(),
    ).toBe(ACCOUNT_0)
    expect(await result(url, 'personal_sign', [message, ACCOUNT_0])).toBe(sig)
  })

  it('refuses an account the node does not hold', async () => {
    const r = await call(url, 'eth_sign', [SOMEONE, '0x00'])
    expect(r.error).toMatchObject({ code: -32000, message: 'unknown account' })
  })
})

describe('eth_signTypedData_v4', () => {
  it('signs typed data (as a JSON string or an object) that recovers to the account', async () => {
    const sig = await result<string>(url, 'eth_signTypedData_v4', [ACCOUNT_0, JSON.stringify(mail)])
    const recovered = await recoverTypedDataAddress({
      ...(mail as unknown as TypedDataDefinition),
      signature: sig as `0x${string}`,
    })
    expect(recovered.toLowerCase()).toBe(ACCOUNT_0)
    expect(await result(url, 'eth_signTypedData_v4', [ACCOUNT_0, mail])).toBe(sig)
  })

  it('names what is wrong in malformed typed data', async () => {
    const bad = { ...mail, message: { ...mail.message, amount: 'lots' } }
    const r = await call(url, 'eth_signTypedData_v4', [ACCOUNT_0, bad])
    expect(r.error?.code).toBe(-32602)
    expect(r.error?.message).toMatch(/Mail\.amount/)
    expect((await call(url, 'eth_signTypedData_v4', [ACCOUNT_0, '{nope'])).error?.code).toBe(-32602)
  })
})

describe('eth_fillTransaction', () => {
  it('fills nonce, gas and fees for any sender, unsigned; signed locally it is mined', async () => {
    const account = privateKeyToAccount(KEY_1)
    const filled = await result<{ raw: `0x${string}`; tx: Record<string, string> }>(url, 'eth_fillTransaction', [
      { from: account.address, to: SOMEONE, value: '0x1' },
    ])
    expect(filled.tx).toMatchObject({ type: '0x2', nonce: '0x0', gas: '0x5208', to: SOMEONE, value: '0x1' })
    expect(String(filled.tx.from).toLowerCase()).toBe(account.address.toLowerCase())
    const parsed = parseTransaction(filled.raw)
    expect(parsed).toMatchObject({ type: 'eip1559', chainId: 1337, gas: 21000n, value: 1n, to: SOMEONE })
    expect(BigInt(String(filled.tx.maxFeePerGas))).toBeGreaterThan(0n)
    // The unsigned encoding carries empty v, r, s (as geth's): sign the fields, not that signature.
    const { r: _r, s: _s, v: _v, yParity: _y, ...fields } = parsed
    const signed = await account.signTransaction(fields as never)
    const hash = await result<string>(url, 'eth_sendRawTransaction', [signed])
    expect((await receipt(url, hash)).status).toBe('0x1')
  })

  it('lets viem send from a local account (viem calls eth_fillTransaction first)', async () => {
    const account = privateKeyToAccount(KEY_1)
    const wallet = createWalletClient({ account, transport: http(url) })
    const hash = await wallet.sendTransaction({ to: SOMEONE, value: 2n, chain: null })
    expect((await receipt(url, hash)).status).toBe('0x1')
  })
})
