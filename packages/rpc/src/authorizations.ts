import {
  Account,
  type Address,
  bigIntToUnpaddedBytes,
  bytesToUnprefixedHex,
  concatBytes,
  type EOACode7702AuthorizationListBytesItem,
  eoaCode7702RecoverAuthority,
  equalsBytes,
  hexToBytes,
} from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import type { CallRequest } from './schemas.ts'

type Authorization = NonNullable<CallRequest['authorizationList']>[number]

const DELEGATION = Uint8Array.from([0xef, 0x01, 0x00])
const MAX_NONCE = 2n ** 64n - 1n
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n
/** EIP-7702: PER_EMPTY_ACCOUNT_COST - PER_AUTH_BASE_COST, refunded for an authority that exists. */
const EXISTING_AUTHORITY_REFUND = 25_000n - 12_500n

/**
 * Applies a call's EIP-7702 authorization list as `@ethereumjs/vm`'s runTx does for a type-4
 * transaction (Prague rules): each valid tuple (chain id 0 or this chain's, nonce below 2^64 - 1,
 * low s, y parity 0 or 1, a recoverable signer whose code is empty or a delegation and whose nonce
 * matches) warms the authority, bumps its nonce and sets (or, to the zero address, clears) its
 * delegation; invalid ones are skipped. The sender's nonce is compared as already bumped by its
 * transaction (the call itself bumps it afterwards). Returns the refund of the authorities that
 * existed (25,000 - 12,500 each). Runs inside the call's checkpoint: reverted with it.
 */
export async function applyAuthorizations(vm: VM, caller: Address, list: Authorization[]): Promise<bigint> {
  const { common } = vm
  let refund = 0n
  for (const auth of list) {
    if (auth.chainId !== 0n && auth.chainId !== common.chainId()) continue
    if (auth.nonce >= MAX_NONCE || auth.s > HALF_N || auth.yParity > 1n) continue
    const tuple: EOACode7702AuthorizationListBytesItem = [
      bigIntToUnpaddedBytes(auth.chainId),
      hexToBytes(auth.address),
      bigIntToUnpaddedBytes(auth.nonce),
      bigIntToUnpaddedBytes(auth.yParity),
      bigIntToUnpaddedBytes(auth.r),
      bigIntToUnpaddedBytes(auth.s),
    ]
    let authority: Address
    try {
      authority = eoaCode7702RecoverAuthority(tuple)
    } catch {
      continue
    }
    const existing = await vm.stateManager.getAccount(authority)
    const account = existing ?? new Account()
    vm.evm.journal.addAlwaysWarmAddress(bytesToUnprefixedHex(authority.bytes))
    if (account.isContract()) {
      const code = await vm.stateManager.getCode(authority)
      if (!equalsBytes(code.subarray(0, 3), DELEGATION)) continue
    }
    const own = authority.equals(caller) ? 1n : 0n
    if (account.nonce + own !== auth.nonce) continue
    if (existing) refund += EXISTING_AUTHORITY_REFUND
    account.nonce++
    await vm.evm.journal.putAccount(authority, account)
    const target = tuple[1]
    await vm.stateManager.putCode(
      authority,
      target.every((b) => b === 0) ? new Uint8Array() : concatBytes(DELEGATION, target),
    )
  }
  return refund
}
