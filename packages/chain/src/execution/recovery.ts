import { type RecoverJob, type RecoverPool, recoveryFromV } from '@cairn/crypto'
import { Capability, type TypedTransaction } from '@ethereumjs/tx'
import { SECP256K1_ORDER_DIV_2 } from '@ethereumjs/util'
import { signingParts } from '../store/signing-hash.ts'

/** Recovers the senders of transactions ahead of admission (off the main thread). */
export interface SenderRecovery {
  /**
   * Seeds each transaction's sender public key (@ethereumjs's `cache.senderPubKey`). A
   * transaction it cannot prepare is left as it was: admission then recovers it on the main
   * thread and gives the usual error for a bad signature.
   */
  prepare(txs: TypedTransaction[]): Promise<void>
}

const MAX_WORD = 2n ** 256n - 1n
const MASK_64 = 2n ** 64n - 1n

/**
 * {@link SenderRecovery} on a {@link RecoverPool}: the message hash and the recovery id are
 * computed here exactly as @ethereumjs's `getSenderPublicKey` does (`getMessageToVerifySignature`,
 * cut from the cached encoding for typed transactions: {@link signingHash};
 * `v` → recovery id with the chain id for EIP-155 legacy transactions), only libsecp256k1's
 * recovery runs on a worker. Signatures @ethereumjs would refuse (high s, bad v) are not sent:
 * they get its own error on the main thread.
 */
export function workerRecovery(pool: RecoverPool): SenderRecovery {
  return {
    async prepare(txs) {
      const jobs: RecoverJob[] = []
      const targets: TypedTransaction[] = []
      for (const tx of txs) {
        const job = jobOf(tx)
        if (job) {
          jobs.push(job)
          targets.push(tx)
        }
      }
      if (jobs.length === 0) return
      const keys = await pool.recover(jobs)
      keys.forEach((key, i) => {
        const tx = targets[i] as TypedTransaction
        if (key && tx.cache.senderPubKey === undefined) tx.cache.senderPubKey = key
      })
    },
  }
}

function jobOf(tx: TypedTransaction): RecoverJob | undefined {
  // Impersonated (sender set on the object), already recovered, or not a frozen signed tx.
  if (Object.hasOwn(tx, 'getSenderAddress') || tx.cache.senderPubKey !== undefined || !Object.isFrozen(tx)) return
  const { v, r, s } = tx
  if (v === undefined || r === undefined || s === undefined) return
  if (s > SECP256K1_ORDER_DIV_2 || r > MAX_WORD) return // EIP-2: high s is refused
  let recovery: bigint
  try {
    recovery = recoveryFromV(v, tx.supports(Capability.EIP155ReplayProtection) ? tx.common.chainId() : undefined)
  } catch {
    return
  }
  if (recovery !== 0n && recovery !== 1n) return
  // Typed: hash and signature cut from the encoding; otherwise from the fields.
  const parts = signingParts(tx)
  if (parts !== undefined) return { hash: parts.hash, sig: parts.sig, recovery: Number(recovery) }
  return { hash: tx.getMessageToVerifySignature(), sig: signatureBytes(r, s), recovery: Number(recovery) }
}

/** `r ‖ s`, 32 bytes each, big-endian (both at most 256 bits: checked by the caller). */
export function signatureBytes(r: bigint, s: bigint): Uint8Array {
  const sig = new Uint8Array(64)
  const view = new DataView(sig.buffer)
  for (let i = 0; i < 4; i++) {
    const shift = BigInt(192 - 64 * i)
    view.setBigUint64(8 * i, (r >> shift) & MASK_64)
    view.setBigUint64(32 + 8 * i, (s >> shift) & MASK_64)
  }
  return sig
}
