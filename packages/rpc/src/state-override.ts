import { hexToBytes } from '@cairn/utils'
import type { StateManagerInterface } from '@ethereumjs/common'
import { Address, setLengthLeft } from '@ethereumjs/util'

/** One account of geth's state override set (eth_call's and eth_simulateV1's share these fields). */
export interface AccountOverride {
  balance?: bigint | undefined
  nonce?: bigint | undefined
  code?: string | undefined
  state?: Record<string, string> | undefined
  stateDiff?: Record<string, string> | undefined
}

/**
 * Applies one account's override: balance, nonce, code, full storage (`state`) or some slots
 * (`stateDiff`). As geth's, an override that sets nothing (only moves a precompile, or an empty
 * `stateDiff`) leaves a missing account missing: no empty account appears in the state.
 */
export async function applyAccountOverride(
  sm: StateManagerInterface,
  address: string,
  o: AccountOverride,
): Promise<void> {
  const a = new Address(hexToBytes(address))
  const fields: { balance?: bigint; nonce?: bigint } = {}
  if (o.balance !== undefined) fields.balance = o.balance
  if (o.nonce !== undefined) fields.nonce = o.nonce
  const slots = Object.keys(o.state ?? o.stateDiff ?? {}).length
  if (o.balance !== undefined || o.nonce !== undefined || o.state !== undefined || slots > 0) {
    await sm.modifyAccountFields(a, fields)
  }
  if (o.code !== undefined) await sm.putCode(a, hexToBytes(o.code))
  if (o.state) await sm.clearStorage(a)
  for (const [slot, value] of Object.entries(o.state ?? o.stateDiff ?? {})) {
    await sm.putStorage(a, setLengthLeft(hexToBytes(slot), 32), setLengthLeft(hexToBytes(value), 32))
  }
}
