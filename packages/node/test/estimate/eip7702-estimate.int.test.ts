// eth_estimateGas of an EIP-7702 (type-4) transaction: the authorizations cost intrinsic gas
// (25,000 each, 12,500 back for an authority that exists) and set the delegation the call then
// runs. Signed and estimated with viem, sent with exactly the estimate: it must succeed, sponsored
// (another account pays) and self-executed (the authority sends it: its nonce is one ahead).
import { silentLogger } from '@cairn/utils'
import { createPublicClient, createWalletClient, type Hex, http, toHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { type StartedNode, startNode } from '../../src/node.ts'
import { devAccount, devChain } from '../e2e/helpers.ts'

/** Runtime: SSTORE(CALLDATALOAD(0), CALLDATALOAD(32) + 1); STOP — a fresh slot per call costs 22,100. */
const WRITER_RUNTIME = '600160203501600035' + '5500'

let node: StartedNode
let writer: Hex
const client = () =>
  createPublicClient({ chain: devChain, transport: http(node.url), cacheTime: 0, pollingInterval: 10 })
const walletOf = (i: number) =>
  createWalletClient({
    account: privateKeyToAccount(devAccount(i).privateKey),
    chain: devChain,
    transport: http(node.url),
  })

beforeAll(async () => {
  const config = loadConfig({
    flags: { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1', 'log.level': 'silent' },
    env: {},
  })
  node = await startNode(config, { logger: silentLogger })
  const len = (WRITER_RUNTIME.length / 2).toString(16).padStart(2, '0')
  const hash = await walletOf(0).sendTransaction({ data: `0x60${len}600c60003960${len}6000f3${WRITER_RUNTIME}` })
  const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 10 })
  writer = receipt.contractAddress as Hex
})

afterAll(async () => {
  await node?.close()
})

const word = (n: bigint) => toHex(n, { size: 32 }).slice(2)

describe('eth_estimateGas with an authorization list (EIP-7702)', () => {
  for (const how of ['sponsored', 'self'] as const) {
    it(`${how}: sent with exactly viem’s estimate, the delegation is set and the delegated code runs`, async () => {
      const authority = walletOf(how === 'self' ? 0 : 3)
      const sender = how === 'self' ? authority : walletOf(0)
      const authorization = await authority.signAuthorization({
        contractAddress: writer,
        ...(how === 'self' ? { executor: 'self' as const } : {}),
      })
      const slot = BigInt(how === 'self' ? 7 : 9)
      const request = {
        to: authority.account.address,
        data: `0x${word(slot)}${word(41n)}` as Hex,
        authorizationList: [authorization],
      }
      const gas = await client().estimateGas({ account: sender.account, ...request })
      // At least the transaction's intrinsic gas with its one authorization.
      expect(gas).toBeGreaterThan(21_000n + 25_000n - 12_500n)
      // viem 2.57's prepareTransactionRequest types it eip1559 unless told (the list is then dropped).
      const hash = await sender.sendTransaction({ ...request, gas, type: 'eip7702' })
      const receipt = await client().waitForTransactionReceipt({ hash, pollingInterval: 10 })
      expect(receipt.status, `gas ${gas}, used ${receipt.gasUsed}`).toBe('success')
      expect(await client().getCode({ address: authority.account.address })).toBe(`0xef0100${writer.slice(2)}`)
      expect(await client().getStorageAt({ address: authority.account.address, slot: toHex(slot) })).toBe(
        toHex(42n, { size: 32 }),
      )
    })
  }
})
