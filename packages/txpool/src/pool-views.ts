// What the RPC reads of the pool's senders (txpool_content, txpool_contentFrom, txpool_inspect)
// and what the journal keeps (the local transactions): read-only walks over the per-sender lists.
import type { TypedTransaction } from '@ethereumjs/tx'
import { byNonce, type SenderTxs } from './sender.ts'

/** Per-sender transactions for txpool_content / txpool_contentFrom. */
export interface PoolContent {
  pending: Map<string, TypedTransaction[]>
  queued: Map<string, TypedTransaction[]>
}

/** geth's txpool_inspect: sender → nonce → "to: value wei + gas gas × price wei". */
export interface PoolInspect {
  pending: Record<string, Record<string, string>>
  queued: Record<string, Record<string, string>>
}

/** A sender's executable run and its queued rest, each in nonce order. */
export function splitSender(sender: SenderTxs): { run: TypedTransaction[]; rest: TypedTransaction[] } {
  const run: TypedTransaction[] = []
  const rest: TypedTransaction[] = []
  for (const p of byNonce(sender)) (p.pending ? run : rest).push(p.tx)
  return { run, rest }
}

/** Per sender, the executable run (in nonce order) and the queued rest (in nonce order). */
export function contentOf(senders: ReadonlyMap<string, SenderTxs>): PoolContent {
  const pending = new Map<string, TypedTransaction[]>()
  const queued = new Map<string, TypedTransaction[]>()
  for (const [key, sender] of senders) {
    const { run, rest } = splitSender(sender)
    if (run.length) pending.set(key, run)
    if (rest.length) queued.set(key, rest)
  }
  return { pending, queued }
}

/** txpool_inspect: a one-line summary per transaction, as geth prints it. */
export function inspectOf(senders: ReadonlyMap<string, SenderTxs>): PoolInspect {
  const out: PoolInspect = { pending: {}, queued: {} }
  for (const [key, sender] of senders) {
    for (const p of sender.txs.values()) {
      const group = p.pending ? out.pending : out.queued
      const byNonce = group[key] ?? {}
      group[key] = byNonce
      const to = p.tx.to ? p.tx.to.toString() : 'contract creation'
      byNonce[p.nonce.toString()] = `${to}: ${p.tx.value} wei + ${p.tx.gasLimit} gas × ${p.cap} wei`
    }
  }
  return out
}

/** Locally submitted transactions, per sender in nonce order (what the journal keeps: no blob transactions). */
export function localsOf(senders: ReadonlyMap<string, SenderTxs>): TypedTransaction[] {
  const out: TypedTransaction[] = []
  for (const sender of senders.values()) {
    for (const p of byNonce(sender)) if (p.local && p.blobs === undefined) out.push(p.tx)
  }
  return out
}
