import { deriveAccounts } from '@cairn/crypto'
import type { AccountSigner } from '@cairn/rpc'
import type { Hex } from '@cairn/utils'

export interface DevAccount {
  address: Hex
  privateKey: Uint8Array
  path: string
}

/** The dev accounts: `count` keys of `mnemonic` at m/44'/60'/0'/0/i, as Anvil and Hardhat derive them. */
export function devAccounts(mnemonic: string, count: number): DevAccount[] {
  return deriveAccounts(mnemonic, count).map((a) => ({ address: a.address, privateKey: a.privateKey, path: a.path }))
}

/** Signs for the given accounts (eth_sendTransaction, eth_accounts). */
export function accountSigner(accounts: DevAccount[]): AccountSigner {
  const keys = new Map(accounts.map((a) => [a.address.toLowerCase(), a.privateKey]))
  return {
    addresses: () => accounts.map((a) => a.address.toLowerCase() as Hex),
    privateKey: (address) => keys.get(address.toLowerCase()),
  }
}
