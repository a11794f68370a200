import type { Address } from '@ethereumjs/util'
import type { PoolTx } from './pool-tx.ts'

/**
 * One sender's pooled transactions. The first `pending` nonces from `stateNonce` are executable
 * (pending); every other transaction waits behind a gap or for room in the pending pool (queued).
 */
export interface SenderTxs {
  readonly address: Address
  readonly key: string
  readonly txs: Map<bigint, PoolTx>
  /** Account nonce and balance at the head, as last read. */
  stateNonce: bigint
  balance: bigint
  pending: number
  queued: number
  /** Sum of the upfront costs of all pooled transactions (the funds check counts them all). */
  cost: bigint
  /** Last time (ms) the sender got a transaction in or had one promoted: queued expiry starts here. */
  lastActive: number
}

export function newSender(address: Address, nonce: bigint, balance: bigint, now: number): SenderTxs {
  return {
    address,
    key: address.toString(),
    txs: new Map(),
    stateNonce: nonce,
    balance,
    pending: 0,
    queued: 0,
    cost: 0n,
    lastActive: now,
  }
}

/** The sender's transactions in nonce order. */
export function byNonce(sender: SenderTxs): PoolTx[] {
  return [...sender.txs.values()].sort((a, b) => (a.nonce < b.nonce ? -1 : a.nonce > b.nonce ? 1 : 0))
}

/** The sender's executable run, in nonce order. */
export function pendingRun(sender: SenderTxs): PoolTx[] {
  const run: PoolTx[] = []
  for (let i = 0; i < sender.pending; i++) run.push(sender.txs.get(sender.stateNonce + BigInt(i)) as PoolTx)
  return run
}
