// The methods issue 55 added, on a dev node over HTTP, with Anvil's and geth's semantics (the
// differential against a real Anvil is in packages/node/test/e2e/anvil-dev-methods.e2e.test.ts):
// eth_getAccountInfo, EIP-7966's sync sends, typed data v3, debug_codeByHash, Tenderly's balance
// edits, anvil_impersonateSignature, and the refusals that say why.
import { keccak256, serializeTransaction } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0, deploy, STORE_RUNTIME } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

/** Dev account 1 (the mnemonic's second key). */
const KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const STRANGER = '0x1111111111111111111111111111111111111111'

type Obj = Record<string, unknown>

let node: StartedNode
let url: string
let store: string
beforeAll(async () => {
  node = await startDevNode()
  url = node.url
  store = await deploy(url, STORE_RUNTIME)
}, 30_000)
afterAll(async () => {
  await node?.close()
})

describe('reads', () => {
  it('eth_getAccountInfo: balance, nonce and code in one call', async () => {
    const info = await result<Obj>(url, 'eth_getAccountInfo', [store, 'latest'])
    expect(info).toEqual({ balance: '0x0', nonce: '0x1', code: `0x${STORE_RUNTIME}` })
    expect(await result(url, 'eth_getAccountInfo', [STRANGER])).toEqual({ balance: '0x0', nonce: '0x0', code: '0x' })
    const a0 = await result<Obj>(url, 'eth_getAccountInfo', [ACCOUNT_0, 'latest'])
    expect(a0.balance).toBe(await result(url, 'eth_getBalance', [ACCOUNT_0, 'latest']))
  })

  it('debug_codeByHash: the code with that hash, 0x when none', async () => {
    expect(await result(url, 'debug_codeByHash', [keccak256(`0x${STORE_RUNTIME}`)])).toBe(`0x${STORE_RUNTIME}`)
    expect(await result(url, 'debug_codeByHash', [`0x${'11'.repeat(32)}`])).toBe('0x')
  })
})

describe('sends that answer the receipt (EIP-7966)', () => {
  it('eth_sendTransactionSync and eth_sendRawTransactionSync answer the receipt', async () => {
    const r = await result<Obj>(url, 'eth_sendTransactionSync', [{ from: ACCOUNT_0, to: STRANGER, value: '0x1' }])
    expect(r.status).toBe('0x1')
    expect(await result(url, 'eth_getTransactionReceipt', [r.transactionHash])).toEqual(r)
    const account = privateKeyToAccount(KEY_1)
    const nonce = Number(await result(url, 'eth_getTransactionCount', [account.address, 'latest']))
    const raw = await account.signTransaction({
      chainId: 1337,
      nonce,
      to: STRANGER,
      value: 2n,
      gas: 21_000n,
      maxFeePerGas: 100_000_000_000n,
      maxPriorityFeePerGas: 1n,
    })
    const rr = await result<Obj>(url, 'eth_sendRawTransactionSync', [raw, 5000])
    expect(rr).toMatchObject({ status: '0x1', from: account.address.toLowerCase(), to: STRANGER })
  })

  it('past the timeout: error 4 with the hash in data; the transaction stays in the pool', async () => {
    await result(url, 'evm_setAutomine', [false])
    try {
      const r = await call(url, 'eth_sendTransactionSync', [{ from: ACCOUNT_0, to: STRANGER, value: '0x1' }, 100])
      expect(r.error?.code).toBe(4)
      expect(r.error?.message).toBe("The transaction was added to the transaction pool but wasn't processed in 0.1s.")
      expect(r.error?.data).toMatch(/^0x[0-9a-f]{64}$/)
      expect(await result(url, 'eth_getTransactionByHash', [r.error?.data])).toMatchObject({ blockNumber: null })
    } finally {
      await result(url, 'evm_setAutomine', [true])
      await result(url, 'evm_mine')
    }
  })
})

describe('signing', () => {
  const typed = {
    types: {
      EIP712Domain: [{ name: 'name', type: 'string' }],
      Mail: [
        { name: 'to', type: 'address' },
        { name: 'body', type: 'string' },
      ],
    },
    primaryType: 'Mail',
    domain: { name: 'cairn' },
    message: { to: STRANGER, body: 'hi' },
  }

  it('eth_signTypedData_v3 and eth_signTypedData (an EIP-712 object) sign as v4', async () => {
    const v4 = await result(url, 'eth_signTypedData_v4', [ACCOUNT_0, typed])
    expect(await result(url, 'eth_signTypedData_v3', [ACCOUNT_0, JSON.stringify(typed)])).toBe(v4)
    expect(await result(url, 'eth_signTypedData', [ACCOUNT_0, typed])).toBe(v4)
  })

  it('refuses the legacy v1 array, saying what to use', async () => {
    const r = await call(url, 'eth_signTypedData', [ACCOUNT_0, [{ type: 'string', name: 'm', value: 'hi' }]])
    expect(r.error).toMatchObject({
      code: -32603,
      message: expect.stringMatching(/^Not implemented: legacy typed data/),
    })
  })
})

describe('dev edits', () => {
  it('tenderly_setBalance and tenderly_addBalance take one address or several', async () => {
    const other = '0x2222222222222222222222222222222222222222'
    expect(await result(url, 'tenderly_setBalance', [[STRANGER, other], '0x100'])).toBeNull()
    expect(await result(url, 'tenderly_addBalance', [other, '0x11'])).toBeNull()
    expect(await result(url, 'eth_getBalance', [STRANGER, 'latest'])).toBe('0x100')
    expect(await result(url, 'eth_getBalance', [other, 'latest'])).toBe('0x111')
  })

  it('anvil_impersonateSignature: a raw transaction with that signature is sent as the address', async () => {
    const from = '0x3333333333333333333333333333333333333333'
    await result(url, 'anvil_setBalance', [from, '0xde0b6b3a7640000'])
    const r = `0x${'0a'.repeat(32)}` as const
    const s = `0x${'0b'.repeat(32)}` as const
    await result(url, 'anvil_impersonateSignature', [[`${r}${s.slice(2)}1b`, from]])
    const raw = serializeTransaction(
      {
        chainId: 1337,
        nonce: 0,
        to: STRANGER,
        value: 5n,
        gas: 21_000n,
        maxFeePerGas: 100_000_000_000n,
        maxPriorityFeePerGas: 1n,
        type: 'eip1559',
      },
      { r, s, yParity: 0 },
    )
    const receipt = await result<Obj>(url, 'eth_sendRawTransactionSync', [raw])
    expect(receipt).toMatchObject({ status: '0x1', from })
  })

  it('refuses what the design does not allow, saying why', async () => {
    const min = await call(url, 'anvil_setMinGasPrice', ['0x10'])
    expect(min.error).toEqual({
      code: -32602,
      message: 'anvil_setMinGasPrice is not supported when EIP-1559 is active',
    })
    const id = await call(url, 'anvil_setChainId', [31_338])
    expect(id.error?.message).toMatch(/fixed at genesis/)
    for (const m of ['eth_getWork', 'eth_submitHashrate', 'debug_dbGet']) {
      expect((await call(url, m, [])).error?.code, m).toBe(-32603)
    }
  })
})
