import { Bucket, bucketKey, bucketRange, type KVStore } from '@cairn/db'
import { bytesToHex } from '@cairn/utils'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { Address } from '@ethereumjs/util'
import type { SenderHook } from '../store/store.ts'

/**
 * Senders of dev-mode impersonated transactions (`anvil_impersonateAccount`): such a transaction
 * carries a placeholder signature, so its sender cannot be recovered from it. The sender is kept
 * here by transaction hash (in memory, and in the `senderOverride` bucket so it survives a
 * restart), and every transaction object the chain hands out for such a hash answers
 * `getSenderAddress()` with it. Empty — and free — on chains that never impersonate.
 */
export class SenderOverrides implements SenderHook {
  private readonly senders = new Map<string, Address>()

  constructor(private readonly kv: KVStore) {}

  async load(): Promise<void> {
    for await (const [k, v] of this.kv.iterate(bucketRange(Bucket.senderOverride))) {
      this.senders.set(bytesToHex(k.subarray(1)), new Address(Uint8Array.from(v)))
    }
  }

  get size(): number {
    return this.senders.size
  }

  /** Records that `tx` is sent by `sender` and returns the transaction answering so. */
  async register(tx: TypedTransaction, sender: Address): Promise<TypedTransaction> {
    const hash = tx.hash()
    await this.kv.put(bucketKey(Bucket.senderOverride, hash), sender.bytes)
    this.senders.set(bytesToHex(hash), sender)
    return withSender(tx, sender)
  }

  /** Replaces, in place, every impersonated transaction of `txs` with one that knows its sender. */
  applyInPlace(txs: TypedTransaction[]): void {
    if (this.senders.size === 0) return
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i] as TypedTransaction
      const sender = this.senders.get(bytesToHex(tx.hash()))
      if (sender && !Object.hasOwn(tx, 'getSenderAddress')) txs[i] = withSender(tx, sender)
    }
  }
}

/**
 * A copy of a transaction whose sender is `sender`. It is decoded anew, unfrozen, so that the
 * method can be set on it and so that code copying its fields (the block builder does) sees them.
 */
function withSender(tx: TypedTransaction, sender: Address): TypedTransaction {
  const copy = createTxFromRLP(tx.serialize(), { common: tx.common, freeze: false })
  copy.getSenderAddress = () => sender
  return copy
}
