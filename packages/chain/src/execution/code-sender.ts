import type { TypedTransaction } from '@ethereumjs/tx'
import { type Address, equalsBytes, KECCAK256_NULL } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'

/**
 * Whether `tx` is a dev-mode impersonated transaction (its sender is set on the object by
 * {@link SenderOverrides}, not recovered from a signature). Such a sender may have code: Anvil
 * skips EIP-3607 for impersonated senders, so Cairn does too (see {@link allowCodeSender}).
 */
export function isImpersonatedTx(tx: TypedTransaction): boolean {
  return Object.hasOwn(tx, 'getSenderAddress')
}

/**
 * Lets `from` send although it has code (no EIP-3607), for one transaction: @ethereumjs/vm's runTx
 * refuses a sender with code and has no option to skip the check. The sender's account, as runTx
 * reads it first, answers an empty code hash to that one check and its real one afterwards (so
 * nothing else changes: the code stays). An EIP-7702 delegation is left alone (runTx allows it).
 * Used where Anvil and geth skip the check: impersonated senders (dev) and eth_simulateV1.
 * Returns the function that undoes the patch; call it once the transaction ran.
 */
export function allowCodeSender(vm: VM, from: Address): () => void {
  const sm = vm.stateManager
  const own = Object.getOwnPropertyDescriptor(sm, 'getAccount')
  const getAccount = sm.getAccount.bind(sm)
  let pending = true
  sm.getAccount = async (address: Address) => {
    const account = await getAccount(address)
    if (!pending || !account || !address.equals(from)) return account
    pending = false
    if (equalsBytes(account.codeHash, KECCAK256_NULL)) return account
    const code = await sm.getCode(from)
    if (code.length >= 3 && code[0] === 0xef && code[1] === 0x01 && code[2] === 0x00) return account
    const real = account.codeHash
    let reads = 0
    Object.defineProperty(account, 'codeHash', {
      configurable: true,
      get: () => (reads++ === 0 ? KECCAK256_NULL : real),
      set: (v: Uint8Array) => {
        Object.defineProperty(account, 'codeHash', { value: v, writable: true, configurable: true })
      },
    })
    return account
  }
  return () => {
    if (own) Object.defineProperty(sm, 'getAccount', own)
    else delete (sm as unknown as { getAccount?: unknown }).getAccount
  }
}
