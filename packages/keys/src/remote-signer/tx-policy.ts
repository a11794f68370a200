/**
 * What the remote signer checks before it signs a transaction with a transaction key
 * (`signTransaction`, protocol.ts). The signer is handed the unsigned transaction, never a digest:
 * it decodes it, refuses what its policy does not allow, and signs the keccak-256 of exactly the
 * bytes it checked (they must be the canonical encoding of what they decode to, so nothing can
 * hide in a second reading). Refused always:
 * - a transaction without a chain id (pre-EIP-155 legacy: valid on every chain) or for another chain;
 * - EIP-7702 (its authorizations delegate the account to code: a drain in one signature);
 * - EIP-4844 (blobs: nothing Cairn's products send);
 * - a transaction that already carries a signature.
 * And by the operator's policy (`cairn signer serve --tx-allow-to ADDRESS[:SELECTOR,…]`,
 * `--tx-allow-create`, `--tx-max-value`): recipients and which of their functions, contract
 * creations, and the value one transaction may move.
 */
import { hexToBytes } from '@cairn/utils'
import { type Hex, keccak256, parseTransaction, serializeTransaction, type TransactionSerializable } from 'viem'

/** A recipient a transaction may call or pay, and which functions of it. */
export interface AllowedRecipient {
  /** Lowercase 0x address. */
  to: string
  /** The 4-byte selectors (lowercase 0x-hex) its calldata may start with; null: any call or payment. */
  selectors: readonly string[] | null
}

export interface TxPolicy {
  /** The recipients a transaction may call or pay; null: any. */
  allowTo: readonly AllowedRecipient[] | null
  /** Whether a contract creation (no recipient) may be signed. */
  allowCreate: boolean
  /** The most wei one transaction may carry; null: no cap. */
  maxValue: bigint | null
}

/** The policy of a signer given no transaction flags: any recipient, no creations, no cap. */
export const OPEN_TX_POLICY: TxPolicy = { allowTo: null, allowCreate: false, maxValue: null }

export type TxCheck =
  | { ok: true; hash: Uint8Array; to: string | null; value: bigint; nonce: number }
  | { ok: false; reason: string }

const refuse = (reason: string): TxCheck => ({ ok: false, reason })

/** Checks `tx` (unsigned, 0x-hex) for `chainId` under `policy`; on success, the digest to sign. */
export function checkTransaction(tx: Hex, chainId: bigint, policy: TxPolicy): TxCheck {
  let parsed: TransactionSerializable & { r?: unknown; s?: unknown; v?: unknown; yParity?: unknown }
  try {
    parsed = parseTransaction(tx) as typeof parsed
  } catch {
    return refuse('the bytes do not decode as a transaction')
  }
  if (parsed.r !== undefined || parsed.s !== undefined || parsed.yParity !== undefined)
    return refuse('the transaction is already signed')
  if (parsed.type === 'eip7702') return refuse('EIP-7702 authorizations delegate the account to code: never signed')
  if (parsed.type === 'eip4844') return refuse('blob transactions are not signed by this signer')
  if (parsed.chainId === undefined) return refuse('the transaction has no chain id (it would be valid on every chain)')
  if (BigInt(parsed.chainId) !== chainId)
    return refuse(`the transaction is for chain ${parsed.chainId}; this signer signs for chain ${chainId} only`)
  let canonical: string
  try {
    canonical = serializeTransaction(parsed)
  } catch {
    return refuse('the transaction does not encode back')
  }
  if (canonical.toLowerCase() !== tx.toLowerCase()) return refuse('the transaction is not in its canonical encoding')
  const to = parsed.to ? parsed.to.toLowerCase() : null
  if (to === null && !policy.allowCreate)
    return refuse('contract creations are not allowed (cairn signer serve --tx-allow-create)')
  if (to !== null && policy.allowTo !== null) {
    const allowed = policy.allowTo.find((a) => a.to === to)
    if (allowed === undefined) return refuse(`recipient ${to} is not allowed (cairn signer serve --tx-allow-to)`)
    if (allowed.selectors !== null) {
      const data = (parsed.data ?? '0x').toLowerCase()
      const selector = data.length >= 10 ? data.slice(0, 10) : null
      if (selector === null || !allowed.selectors.includes(selector))
        return refuse(
          `${selector === null ? 'a call without a function selector' : `function ${selector}`} of ${to} is not allowed (cairn signer serve --tx-allow-to ${to}:SELECTOR)`,
        )
    }
  }
  const value = parsed.value ?? 0n
  if (policy.maxValue !== null && value > policy.maxValue)
    return refuse(`value ${value} wei is over the cap of ${policy.maxValue} (cairn signer serve --tx-max-value)`)
  return { ok: true, hash: hexToBytes(keccak256(tx)), to, value, nonce: parsed.nonce ?? 0 }
}
