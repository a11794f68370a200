/**
 * The votes of one (height, round, type), tallied by voting power.
 *
 * A validator's first vote counts towards "any" (`hasTwoThirdsAny`, the round's voters). A second
 * vote from the same validator for another block hash is an equivocation: `add` returns the earlier
 * vote so the caller can make evidence of the pair. As in the paper, which counts messages per
 * value, the conflicting vote still counts towards its own value's tally (up to
 * {@link MAX_VALUES_PER_VALIDATOR} values per validator, against spam): otherwise an equivocator
 * could hide a proof-of-lock from the validators it sent its other vote to, and stall the height.
 * Safe: two > 2/3 tallies for different values share > 1/3 of the power, so a correct validator
 * would have voted twice. (CometBFT reaches the same end with its peers' maj23 claims.)
 */
import { hashKey, type SignedVote, type VoteType } from './messages.ts'
import type { ValidatorSet } from './validator-set.ts'

/** What adding a vote did. */
export type AddVoteResult =
  | { kind: 'added' }
  | { kind: 'duplicate' }
  | { kind: 'conflict'; existing: SignedVote; validatorIndex: number }

/** How many different values one validator's votes may count towards in one vote set. */
export const MAX_VALUES_PER_VALIDATOR = 2

export class VoteSet {
  readonly height: number
  readonly round: number
  readonly type: VoteType
  readonly #validators: ValidatorSet
  readonly #byValidator = new Map<number, SignedVote>()
  readonly #powerByHash = new Map<string, bigint>()
  readonly #byValue = new Map<string, Map<number, SignedVote>>()
  readonly #valuesOf = new Map<number, number>()
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
    if (existing === undefined) {
      this.#byValidator.set(validatorIndex, vote)
      this.#total += this.#power(validatorIndex)
      this.#valuesOf.set(validatorIndex, 1)
      this.#count(key, validatorIndex, vote)
      return { kind: 'added' }
    }
    if (this.#byValue.get(key)?.has(validatorIndex)) return { kind: 'duplicate' }
    const values = this.#valuesOf.get(validatorIndex) ?? 1
    if (values < MAX_VALUES_PER_VALIDATOR) {
      this.#valuesOf.set(validatorIndex, values + 1)
      this.#count(key, validatorIndex, vote)
    }
    return { kind: 'conflict', existing, validatorIndex }
  }

  #power(validatorIndex: number): bigint {
    return this.#validators.at(validatorIndex)?.votingPower ?? 0n
  }

  #count(key: string, validatorIndex: number, vote: SignedVote): void {
    let voters = this.#byValue.get(key)
    if (voters === undefined) {
      voters = new Map()
      this.#byValue.set(key, voters)
    }
    voters.set(validatorIndex, vote)
    const tally = (this.#powerByHash.get(key) ?? 0n) + this.#power(validatorIndex)
    this.#powerByHash.set(key, tally)
    if (this.#maj23 === undefined && this.#validators.hasTwoThirds(tally)) this.#maj23 = key
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
    const out = [...(this.#byValue.get(key) ?? [])].map(([validatorIndex, vote]) => ({ validatorIndex, vote }))
    return out.sort((a, b) => a.validatorIndex - b.validatorIndex)
  }

  /** Every validator's first vote. */
  all(): SignedVote[] {
    return [...this.#byValidator.values()]
  }
}
