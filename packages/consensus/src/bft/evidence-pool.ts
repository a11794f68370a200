/**
 * The evidence pool: duplicate-vote evidence a node has seen (its state machine's, a peer's, a
 * block's) and not yet seen committed, for gossip and for inclusion in the next block it proposes.
 *
 * - Deduplicated by (validator, height, round, type): one piece per equivocation, whatever pair of
 *   conflicting votes proves it.
 * - Verified when it comes from outside (`submit`, `check`): the two signatures recover the
 *   validator, who is in the validator set of that height, and the evidence is not older than
 *   `maxAgeHeights` (nor for a height not reached yet). The state machine's own evidence comes from
 *   votes it verified (`add`).
 * - Bounded: at most `maxPending` pieces pending; more is refused (evidence needs a real
 *   equivocation by a validator, so the bound is about memory, not a race to fill it).
 * - Committed evidence (`markCommitted`) leaves the pending list and is remembered until it ages
 *   out, so a peer gossiping it again does not bring it back; `prune(height)` drops what aged out.
 *
 * In a block, the evidence list is the RLP list of each piece's RLP (`encodeEvidenceList`).
 */
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ConsensusErrorCode } from '../errors.ts'
import {
  type DuplicateVoteEvidence,
  decodeEvidence,
  encodeEvidence,
  evidenceKey,
  verifyDuplicateVoteEvidence,
} from './evidence.ts'
import { type Address, hashKey } from './messages.ts'
import type { SignatureScheme } from './pq/scheme.ts'
import { recoverSigner } from './signing.ts'
import type { ValidatorSet } from './validator-set.ts'

export interface EvidencePoolOptions {
  /** The chain id votes are signed for. Needed by `submit` and `check` (verification). */
  chainId?: bigint
  /** The chain's consensus signature scheme (evidence signatures' length). Default secp256k1. */
  scheme?: SignatureScheme
  /** At most this many pieces pending. Default 1,000. */
  maxPending?: number
  /** Evidence older than this many heights (below current − maxAgeHeights) is refused and pruned. Default 100,000. */
  maxAgeHeights?: number
}

export interface EvidencePoolModules {
  /** The validator set of a height (the equivocator must be in it). Needed by `submit` and `check`. */
  validatorSetAt?(height: number): ValidatorSet
  /** Signature recovery (secp256k1 by default). */
  recover?(digest: Uint8Array, signature: Uint8Array): Address | null
}

/** What `submit` did with a verified piece. */
export type SubmitResult = 'added' | 'duplicate' | 'committed' | 'full' | 'future'

export const DEFAULT_MAX_PENDING_EVIDENCE = 1000
export const DEFAULT_MAX_EVIDENCE_AGE_HEIGHTS = 100_000

/** A pool built without what verification needs: the composition root's bug, not the peer's. */
function unwired(what: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_INVALID_EVIDENCE, `the evidence pool cannot verify: no ${what}`, {
    fault: 'internal',
  })
}

function invalid(message: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_INVALID_EVIDENCE, `duplicate-vote evidence: ${message}`, {
    fault: 'peer',
  })
}

export class EvidencePool {
  /** The chain's consensus signature scheme. */
  readonly scheme: SignatureScheme
  readonly #chainId: bigint | undefined
  readonly #maxPending: number
  readonly #maxAge: number
  readonly #m: EvidencePoolModules
  readonly #pending = new Map<string, DuplicateVoteEvidence>()
  /** Keys of committed evidence, with its height (kept until it ages out). */
  readonly #committed = new Map<string, number>()
  /** The height of the block that carried each committed piece (the first one this node saw). */
  readonly #committedIn = new Map<string, number>()

  constructor(opts: EvidencePoolOptions = {}, modules: EvidencePoolModules = {}) {
    this.#chainId = opts.chainId
    this.scheme = opts.scheme ?? 'secp256k1'
    this.#maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING_EVIDENCE
    this.#maxAge = opts.maxAgeHeights ?? DEFAULT_MAX_EVIDENCE_AGE_HEIGHTS
    this.#m = modules
  }

  /**
   * Adds evidence already verified (the state machine's own, from votes it checked). False when the
   * pool has it (pending or committed) or is full.
   */
  add(ev: DuplicateVoteEvidence): boolean {
    const key = evidenceKey(ev)
    if (this.#pending.has(key) || this.#committed.has(key) || this.#pending.size >= this.#maxPending) return false
    this.#pending.set(key, ev)
    return true
  }

  /**
   * Verifies evidence against the chain at `currentHeight` (the height being decided): both
   * signatures by the validator, the validator in the set of the evidence's height, the height at
   * most `currentHeight` and not older than `maxAgeHeights`.
   * @throws CairnError `CONSENSUS_BFT_INVALID_EVIDENCE` (fault 'peer')
   */
  check(ev: DuplicateVoteEvidence, currentHeight: number): void {
    const height = ev.voteA.height
    if (!Number.isSafeInteger(height) || height < 1) throw invalid(`bad height ${height}`)
    if (height > currentHeight) throw invalid(`for height ${height}, beyond the current ${currentHeight}`)
    if (height < currentHeight - this.#maxAge) {
      throw invalid(`for height ${height}, older than ${this.#maxAge} heights below ${currentHeight}`)
    }
    const { chainId } = this
    const setAt = this.#m.validatorSetAt
    if (setAt === undefined) throw unwired('validatorSetAt module')
    verifyDuplicateVoteEvidence(ev, setAt(height), chainId, this.#m.recover ?? recoverSigner)
  }

  /**
   * Verifies evidence from outside (a peer, a block) and adds it; 'future' (not added, no error) for
   * a height beyond `currentHeight`.
   * @throws CairnError `CONSENSUS_BFT_INVALID_EVIDENCE` (fault 'peer') when it does not verify
   */
  submit(ev: DuplicateVoteEvidence, currentHeight: number): SubmitResult {
    const key = evidenceKey(ev)
    if (this.#committed.has(key)) return 'committed'
    if (this.#pending.has(key)) return 'duplicate'
    // From a peer ahead of us: not verifiable yet (the validator set of that height may be
    // unknown), not wrong either; the peer gossips it again.
    if (ev.voteA.height > currentHeight) return 'future'
    this.check(ev, currentHeight)
    if (this.#pending.size >= this.#maxPending) return 'full'
    this.#pending.set(key, ev)
    return 'added'
  }

  /** True when the pool holds evidence (pending or committed) of `validator` at (height, round, type). */
  has(validator: Address, height: number, round: number, type: number): boolean {
    const key = `${hashKey(validator)}/${height}/${round}/${type}`
    return this.#pending.has(key) || this.#committed.has(key)
  }

  /**
   * True when that equivocation's evidence is already in a committed block; with `below`, in one
   * below that height (an ancestor of a block of `below`: a block checked again after it was itself
   * committed — a sync and the engine importing it at once — does not count against itself).
   */
  isCommitted(ev: DuplicateVoteEvidence, below?: number): boolean {
    const key = evidenceKey(ev)
    if (below === undefined) return this.#committed.has(key)
    const h = this.#committedIn.get(key)
    return h !== undefined && h < below
  }

  /** Pending evidence for the next block, oldest first, at most `max` pieces. */
  pending(max = Number.POSITIVE_INFINITY): DuplicateVoteEvidence[] {
    const out: DuplicateVoteEvidence[] = []
    for (const ev of this.#pending.values()) {
      if (out.length >= max) break
      out.push(ev)
    }
    return out
  }

  /** Evidence included in the committed block of `height`: no longer pending, and not taken again. */
  markCommitted(evidence: readonly DuplicateVoteEvidence[], height: number): void {
    for (const ev of evidence) {
      const key = evidenceKey(ev)
      this.#pending.delete(key)
      this.#committed.set(key, Math.min(height, ev.voteA.height))
      this.#committedIn.set(key, Math.min(height, this.#committedIn.get(key) ?? height))
    }
  }

  /** Removes one piece (kept for the existing callers; `markCommitted` is the block path). */
  remove(ev: DuplicateVoteEvidence): void {
    this.#pending.delete(evidenceKey(ev))
  }

  /** Drops pending and committed evidence older than the age limit at `currentHeight`. */
  prune(currentHeight: number): void {
    const floor = currentHeight - this.#maxAge
    for (const [key, ev] of this.#pending) if (ev.voteA.height < floor) this.#pending.delete(key)
    for (const [key, h] of this.#committed) {
      if (h >= floor) continue
      this.#committed.delete(key)
      this.#committedIn.delete(key)
    }
  }

  /** Evidence below `current − maxAgeHeights` is refused and pruned. */
  get maxAgeHeights(): number {
    return this.#maxAge
  }

  /** The number of pending pieces. */
  get size(): number {
    return this.#pending.size
  }

  get chainId(): bigint {
    if (this.#chainId === undefined) throw unwired('chain id')
    return this.#chainId
  }
}

/** A block's evidence list: the RLP list of each piece's RLP bytes. */
export function encodeEvidenceList(list: readonly DuplicateVoteEvidence[]): Uint8Array {
  return RLP.encode(list.map(encodeEvidence))
}

/**
 * A block's evidence list from its bytes (each piece decoded, not yet verified: `EvidencePool.check`).
 * @throws CairnError `CONSENSUS_BFT_MALFORMED` or `CONSENSUS_BFT_INVALID_EVIDENCE` (fault 'peer')
 */
export function decodeEvidenceList(
  bytes: Uint8Array,
  chainId: bigint,
  maxItems = 1000,
  scheme: SignatureScheme = 'secp256k1',
): DuplicateVoteEvidence[] {
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch (err) {
    throw new CairnError(ConsensusErrorCode.BFT_MALFORMED, 'evidence list: not RLP', { fault: 'peer', cause: err })
  }
  if (!Array.isArray(d))
    throw new CairnError(ConsensusErrorCode.BFT_MALFORMED, 'evidence list: not a list', { fault: 'peer' })
  if (d.length > maxItems) {
    throw new CairnError(ConsensusErrorCode.BFT_MALFORMED, `evidence list: ${d.length} items, more than ${maxItems}`, {
      fault: 'peer',
    })
  }
  const seen = new Set<string>()
  return d.map((item) => {
    if (!(item instanceof Uint8Array)) {
      throw new CairnError(ConsensusErrorCode.BFT_MALFORMED, 'evidence list: an item is not bytes', { fault: 'peer' })
    }
    // Each piece is carried as its own RLP bytes (an RLP string holding an RLP list).
    const ev = decodeEvidence(item, chainId, scheme)
    const key = evidenceKey(ev)
    if (seen.has(key)) throw invalid('the same equivocation twice in one list')
    seen.add(key)
    return ev
  })
}
