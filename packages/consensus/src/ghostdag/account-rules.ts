import type { TxOutcome, TxRules } from './execution.ts'

/** A value transfer in the account model: what the skip rule is stated on (the EVM's checks in small). */
export interface Transfer {
  /** Unique per transaction (its hash). */
  id: string
  from: string
  to: string
  nonce: number
  value: bigint
}

export interface Account {
  nonce: number
  balance: bigint
}

/** Accounts by address; an absent account has nonce 0 and balance 0. */
export type AccountState = Map<string, Account>

/**
 * The account rules of execution in GhostDAG order, as the EVM applies them before running a
 * transaction: the sender's nonce must be the transaction's (`nonce-used` below it — the same
 * transaction merged twice, or a conflicting one —, `nonce-gap` above it) and its balance must
 * cover the value (`insufficient-funds`). A skipped transaction changes nothing.
 */
export const accountRules: TxRules<Transfer, AccountState> = {
  apply(state: AccountState, tx: Transfer): TxOutcome {
    const from = state.get(tx.from) ?? { nonce: 0, balance: 0n }
    if (tx.nonce < from.nonce) return { applied: false, reason: 'nonce-used' }
    if (tx.nonce > from.nonce) return { applied: false, reason: 'nonce-gap' }
    if (tx.value < 0n || from.balance < tx.value) return { applied: false, reason: 'insufficient-funds' }
    state.set(tx.from, { nonce: from.nonce + 1, balance: from.balance - tx.value })
    const to = state.get(tx.to) ?? { nonce: 0, balance: 0n }
    state.set(tx.to, { nonce: to.nonce, balance: to.balance + tx.value })
    return { applied: true }
  },
  copy(state: AccountState): AccountState {
    // Accounts are replaced, never mutated, so a shallow copy is independent.
    return new Map(state)
  },
}
