/**
 * Double-sign protection: the last (height, round, step, block) a validator key signed.
 *
 * Before a proposal or vote is signed, {@link SignerState.checkAndRecord} compares it with the last
 * signature and records it durably: it refuses anything at a lower (height, round, step), and at the
 * same one anything for another block (signing the same message again is allowed, and gives the same
 * bytes: signatures are deterministic). Only then does the signature leave the node, so a validator
 * killed at any instant and restarted never signs two conflicting messages, even with its
 * consensus WAL lost. As CometBFT's `privval` `LastSignState.CheckHRS`.
 */
import { hashKey } from '../bft/messages.ts'

/** The signing steps, ordered within a round. */
export type SignStep = 1 | 2 | 3

/** What was (or is about to be) signed. `blockHash` null: a nil vote. */
export interface SignedRecord {
  height: number
  round: number
  step: SignStep
  blockHash: Uint8Array | null
}

/** The answer: sign (new, or the same message again), or refuse with the reason. */
export type SignCheck = { ok: true; again: boolean } | { ok: false; reason: string }

export interface SignerState {
  /**
   * Checks `next` against the last signed record and, when allowed, makes it the last one durably
   * before returning. Call it before every signature; send nothing it refuses.
   */
  checkAndRecord(next: SignedRecord): SignCheck
  /** The last signed record, or null before the first signature. */
  last(): SignedRecord | null
}

/** The rule shared by every implementation. */
export function checkSign(last: SignedRecord | null, next: SignedRecord): SignCheck {
  if (last === null) return { ok: true, again: false }
  const at = `${next.height}/${next.round}/${next.step}`
  const was = `${last.height}/${last.round}/${last.step}`
  if (next.height !== last.height) {
    return next.height > last.height
      ? { ok: true, again: false }
      : { ok: false, reason: `height regression: ${at} after ${was}` }
  }
  if (next.round !== last.round) {
    return next.round > last.round
      ? { ok: true, again: false }
      : { ok: false, reason: `round regression: ${at} after ${was}` }
  }
  if (next.step !== last.step) {
    return next.step > last.step
      ? { ok: true, again: false }
      : { ok: false, reason: `step regression: ${at} after ${was}` }
  }
  if (hashKey(next.blockHash) === hashKey(last.blockHash)) return { ok: true, again: true }
  return {
    ok: false,
    reason: `conflict at ${at}: already signed ${hashKey(last.blockHash)}, asked to sign ${hashKey(next.blockHash)}`,
  }
}

/** A signer state in memory (the simulator's; a node uses {@link FileSignerState}). */
export class MemorySignerState implements SignerState {
  #last: SignedRecord | null

  constructor(initial: SignedRecord | null = null) {
    this.#last = initial
  }

  checkAndRecord(next: SignedRecord): SignCheck {
    const check = checkSign(this.#last, next)
    if (check.ok && !check.again) this.#last = { ...next }
    return check
  }

  last(): SignedRecord | null {
    return this.#last
  }
}
