/**
 * The votes of one (height, round, type), tallied by voting power.
 *
 * One vote per validator counts: the first. A second vote from the same validator for another
 * block hash is an equivocation; `add` returns the earlier vote so the caller can make evidence of
 * the pair, and the second vote is not counted (as CometBFT's `VoteSet.AddVote`).
 */
import { hashKey, type SignedVote, type VoteType } from './messages.ts'
import type { ValidatorSet } from './validator-set.ts'

/** What adding a vote did. */
export type AddVoteResult =
  | { kind: 'added' }
  | { kind: 'duplicate' }
  | { kind: 'conflict'; existing: SignedVote; validatorIndex: number }

export class VoteSet {
  readonly height: number
  readonly round: number
  readonly type: VoteType
  readonly #validators: ValidatorSet
  readonly #byValidator = new Map<number, SignedVote>()
  readonly #powerByHash = new Map<string, bigint>()
  #total = 0n
  #maj23: string | undefined

  constructor(height: number, round: number, type: VoteType, validators: ValidatorSet) {
    this.height = height
    this.round = round
    this.type = type
    this.#validators = validators
  }

  /** Adds a vote already known to be signed by the validator at `validatorIndex`. */
  add(vote: SignedVote, validatorIndex: number): AddVoteResult {
    const existing = this.#byValidator.get(validatorIndex)
    const key = hashKey(vote.blockHash)
    if (existing !== undefined) {
      return hashKey(existing.blockHash) === key
        ? { kind: 'duplicate' }
        : { kind: 'conflict', existing, validatorIndex }
    }
    const power = this.#validators.at(validatorIndex)?.votingPower ?? 0n
    this.#byValidator.set(validatorIndex, vote)
    const tally = (this.#powerByHash.get(key) ?? 0n) + power
    this.#powerByHash.set(key, tally)
    this.#total += power
    if (this.#maj23 === undefined && this.#validators.hasTwoThirds(tally)) this.#maj23 = key
    return { kind: 'added' }
  }

  /** The hash key (`hashKey`: hex or `nil`) that more than 2/3 of the power voted for, if any. */
  twoThirdsMajority(): string | undefined {
    return this.#maj23
  }

  /** True when more than 2/3 of the power voted, for anything. */
  hasTwoThirdsAny(): boolean {
    return this.#validators.hasTwoThirds(this.#total)
  }

  /** The power that voted for `key` (a `hashKey`). */
  powerFor(key: string): bigint {
    return this.#powerByHash.get(key) ?? 0n
  }

  /** The indices of the validators that voted. */
  voters(): IterableIterator<number> {
    return this.#byValidator.keys()
  }

  /** The votes for `key`, with their validator index, in index order. */
  votesFor(key: string): { validatorIndex: number; vote: SignedVote }[] {
    const out: { validatorIndex: number; vote: SignedVote }[] = []
    for (const [validatorIndex, vote] of this.#byValidator) {
      if (hashKey(vote.blockHash) === key) out.push({ validatorIndex, vote })
    }
    return out.sort((a, b) => a.validatorIndex - b.validatorIndex)
  }

  /** Every counted vote. */
  all(): SignedVote[] {
    return [...this.#byValidator.values()]
  }
}
