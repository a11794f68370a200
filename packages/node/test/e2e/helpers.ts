// Clients, accounts and the few pieces of Ethereum arithmetic the e2e test checks against.
import { JsonRpcProvider, Wallet } from 'ethers'
import {
  type Address,
  bytesToHex,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  hexToBytes,
  http,
  keccak256,
} from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { CHAIN_ID } from './harness.ts'

// ---------------------------------------------------------------------------------------------
// Accounts

export const MNEMONIC = 'test test test test test test test test test test test junk'
export const GENESIS_BALANCE = 10_000n * 10n ** 18n

export interface DevAccount {
  address: Address
  privateKey: Hex
}

/** The 10 dev accounts of the test mnemonic (m/44'/60'/0'/0/i). */
export const DEV_ACCOUNTS: DevAccount[] = Array.from({ length: 10 }, (_, i) => {
  const hd = mnemonicToAccount(MNEMONIC, { addressIndex: i })
  const key = hd.getHdKey().privateKey
  if (!key) throw new Error(`no private key for dev account ${i}`)
  return { address: hd.address, privateKey: bytesToHex(key) }
})

export function devAccount(i: number): DevAccount {
  const account = DEV_ACCOUNTS[i]
  if (!account) throw new Error(`no dev account ${i}`)
  return account
}

// ---------------------------------------------------------------------------------------------
// Clients

export const devChain = defineChain({
  id: CHAIN_ID,
  name: 'Cairn dev',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1:8545'] } },
})

/** Dev blocks come instantly: poll fast instead of viem's and ethers' default 4 s. */
const POLLING_MS = 50

export function makeViemClients(url: string) {
  const transport = http(url, { retryCount: 0 })
  return {
    public: createPublicClient({ chain: devChain, transport, pollingInterval: POLLING_MS }),
    /** Account 0, unlocked on the node: eth_sendTransaction. */
    unlocked0: createWalletClient({
      account: devAccount(0).address,
      chain: devChain,
      transport,
      pollingInterval: POLLING_MS,
    }),
    /** Account 1, signed locally: eth_sendRawTransaction. */
    local1: createWalletClient({
      account: privateKeyToAccount(devAccount(1).privateKey),
      chain: devChain,
      transport,
      pollingInterval: POLLING_MS,
    }),
  }
}
export type ViemClients = ReturnType<typeof makeViemClients>

export function makeEthersClients(url: string) {
  // cacheTimeout -1: by default ethers answers identical requests made within 250 ms from a cache,
  // so back-to-back sends from one Wallet reuse a stale eth_getTransactionCount ("nonce too low").
  const provider = new JsonRpcProvider(url, undefined, { pollingInterval: POLLING_MS, cacheTimeout: -1 })
  return {
    provider,
    /** Account 2, signed locally. */
    wallet2: new Wallet(devAccount(2).privateKey, provider),
    /** Account 3, unlocked on the node (eth_accounts[3]). */
    signer3: () => provider.getSigner(3),
  }
}
export type EthersClients = ReturnType<typeof makeEthersClients>

// ---------------------------------------------------------------------------------------------
// Ethereum arithmetic

/** The base fee of a block's child, as EIP-1559 defines it (elasticity 2, change denominator 8). */
export function nextBaseFee(parent: { baseFeePerGas: bigint; gasUsed: bigint; gasLimit: bigint }): bigint {
  const { baseFeePerGas: base, gasUsed } = parent
  const target = parent.gasLimit / 2n
  if (gasUsed === target) return base
  if (gasUsed > target) {
    const delta = (base * (gasUsed - target)) / target / 8n
    return base + (delta === 0n ? 1n : delta) // at least 1 wei
  }
  return base - (base * (target - gasUsed)) / target / 8n
}

/** What the sender pays per gas: gasPrice, or min(maxFee, baseFee + maxPriorityFee) for EIP-1559. */
export function effectiveGasPrice(
  tx: { gasPrice?: bigint | undefined; maxFeePerGas?: bigint | undefined; maxPriorityFeePerGas?: bigint | undefined },
  baseFeePerGas: bigint,
): bigint {
  if (tx.maxFeePerGas !== undefined && tx.maxPriorityFeePerGas !== undefined) {
    const tip = baseFeePerGas + tx.maxPriorityFeePerGas
    return tip < tx.maxFeePerGas ? tip : tx.maxFeePerGas
  }
  if (tx.gasPrice === undefined) throw new Error('transaction has neither gasPrice nor maxFeePerGas')
  return tx.gasPrice
}

/** The 2048-bit logs bloom (yellow paper M3:2048) of a list of logs. */
export function logsBloom(logs: readonly { address: Hex; topics: readonly Hex[] }[]): Hex {
  const bloom = new Uint8Array(256)
  for (const log of logs) {
    for (const item of [log.address, ...log.topics]) {
      const hash = hexToBytes(keccak256(hexToBytes(item)))
      for (let i = 0; i < 6; i += 2) {
        const bit = (((hash[i] ?? 0) << 8) | (hash[i + 1] ?? 0)) & 2047
        const byte = 255 - Math.floor(bit / 8)
        bloom[byte] = (bloom[byte] ?? 0) | (1 << (bit % 8))
      }
    }
  }
  return bytesToHex(bloom)
}

export const ZERO_BLOOM: Hex = `0x${'00'.repeat(256)}`
export const ZERO_HASH: Hex = `0x${'00'.repeat(32)}`
