/**
 * A validator set with voting power and CometBFT's weighted round-robin proposer selection.
 *
 * Proposer priority, as `types/validator_set.go` in CometBFT: every step adds each validator's
 * power to its priority, the highest priority proposes (ties: the lower address) and loses the total
 * power. Before a batch of steps the priorities are rescaled when their spread exceeds 2 × total
 * power (divided by ceil(spread / (2 × total)), truncating) and centred on zero (minus the average,
 * rounded down as Go's `big.Int.Div`). Sums clip to int64 as CometBFT's `safeAddClip`. Over time each
 * validator proposes in proportion to its power.
 *
 * Validators are kept in CometBFT's order (power descending, then address ascending); a validator's
 * index in that order is what commit certificates refer to. A set is immutable: the increments
 * return copies.
 */
import { CairnError } from '@cairn/utils'
import { ConsensusErrorCode } from '../errors.ts'
import { type Address, hashKey } from './messages.ts'
import { checkPqValidatorEntry, type SignatureScheme } from './pq/scheme.ts'

const INT64_MAX = (1n << 63n) - 1n
const INT64_MIN = -(1n << 63n)
/** CometBFT's `MaxTotalVotingPower` (int64 max / 8), so priorities never overflow. */
export const MAX_TOTAL_VOTING_POWER = INT64_MAX / 8n
/** CometBFT's `PriorityWindowSizeFactor`: priorities span at most this × total power. */
const PRIORITY_WINDOW_SIZE_FACTOR = 2n

/**
 * A validator: its address, voting power, current proposer priority and, under a post-quantum
 * scheme, its ML-DSA-65 public key (1,952 bytes; null under `secp256k1`, docs/consensus/post-quantum.md).
 */
export interface Validator {
  readonly address: Address
  readonly votingPower: bigint
  readonly proposerPriority: bigint
  readonly pqPublicKey: Uint8Array | null
}

/** A member as given to a set: the ML-DSA key may be left out under `secp256k1`. */
export interface ValidatorInput {
  readonly address: Address
  readonly votingPower: bigint
  readonly pqPublicKey?: Uint8Array | null
}

/** A change as `update` takes it: power 0 removes; a joiner under a PQ scheme brings its ML-DSA key. */
export interface ValidatorChangeInput {
  address: Address
  votingPower: bigint
  pqPublicKey?: Uint8Array | null
}

function clip(v: bigint): bigint {
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v
}

/** Floor division by a positive divisor (Go's big.Int Div, Euclidean). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n ? q - 1n : q
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a[i] as number
    const y = b[i] as number
    if (x !== y) return x < y ? -1 : 1
  }
  return a.length - b.length
}

function invalid(message: string): CairnError {
  return new CairnError(ConsensusErrorCode.BFT_INVALID_VALIDATOR_SET, message, { fault: 'caller' })
}

export class ValidatorSet {
  /** The chain's consensus signature scheme (fixed at genesis): every member fits it. */
  readonly scheme: SignatureScheme
  readonly validators: readonly Validator[]
  readonly totalVotingPower: bigint
  /** The proposer chosen by the last increment (round 0 of the height this set is for). */
  readonly proposer: Validator
  readonly #indexByAddress: Map<string, number>
  #roundProposers: Map<number, number> | undefined

  private constructor(validators: Validator[], proposer: Validator, scheme: SignatureScheme) {
    this.scheme = scheme
    this.validators = validators
    this.totalVotingPower = validators.reduce((s, v) => s + v.votingPower, 0n)
    this.proposer = proposer
    this.#indexByAddress = new Map(validators.map((v, i) => [hashKey(v.address), i]))
  }

  /**
   * A new set (genesis): priorities zero, then one increment, as CometBFT's `NewValidatorSet`.
   * @throws CairnError `CONSENSUS_BFT_INVALID_VALIDATOR_SET` when empty, a power is not positive,
   * the total exceeds {@link MAX_TOTAL_VOTING_POWER}, an address repeats, or an entry does not fit
   * `scheme` (`checkPqValidatorEntry`: an ML-DSA key under a PQ scheme, none under secp256k1).
   */
  static create(members: readonly ValidatorInput[], scheme: SignatureScheme = 'secp256k1'): ValidatorSet {
    return ValidatorSet.withPriorities(
      members.map((m) => ({ ...m, proposerPriority: 0n })),
      scheme,
    ).copyIncrementProposerPriority(1)
  }

  /** A set with the given priorities as they are (restored state); `proposer` is the highest priority. */
  static withPriorities(
    members: readonly (ValidatorInput & { readonly proposerPriority: bigint })[],
    scheme: SignatureScheme = 'secp256k1',
  ): ValidatorSet {
    if (members.length === 0) throw invalid('a validator set needs at least one validator')
    const seen = new Set<string>()
    let total = 0n
    for (const m of members) {
      if (m.address.length !== 20) throw invalid(`a validator address is 20 bytes, got ${m.address.length}`)
      if (m.votingPower <= 0n) throw invalid(`validator ${hashKey(m.address)} has voting power ${m.votingPower}`)
      const key = hashKey(m.address)
      if (seen.has(key)) throw invalid(`validator ${key} appears twice`)
      seen.add(key)
      checkPqValidatorEntry(scheme, { address: m.address, pqPublicKey: m.pqPublicKey ?? null })
      total += m.votingPower
    }
    if (total > MAX_TOTAL_VOTING_POWER) throw invalid(`total voting power ${total} exceeds ${MAX_TOTAL_VOTING_POWER}`)
    const sorted = members
      .map((m) => ({
        address: m.address,
        votingPower: m.votingPower,
        proposerPriority: m.proposerPriority,
        pqPublicKey: m.pqPublicKey ?? null,
      }))
      .sort((a, b) =>
        a.votingPower !== b.votingPower ? (a.votingPower > b.votingPower ? -1 : 1) : compareBytes(a.address, b.address),
      )
    return new ValidatorSet(sorted, mostPriority(sorted), scheme)
  }

  get size(): number {
    return this.validators.length
  }

  /** The index of `address` in this set, or -1. */
  indexOf(address: Address): number {
    return this.#indexByAddress.get(hashKey(address)) ?? -1
  }

  /** The ML-DSA-65 public key of member `address`; null when none (secp256k1) or not a member. */
  pqKeyOf(address: Address): Uint8Array | null {
    const i = this.indexOf(address)
    return i < 0 ? null : ((this.validators[i] as Validator).pqPublicKey ?? null)
  }

  /** The validator at `index`, or undefined. */
  at(index: number): Validator | undefined {
    return this.validators[index]
  }

  /** True when `power` is more than 2/3 of the total (a quorum). */
  hasTwoThirds(power: bigint): boolean {
    return power * 3n > this.totalVotingPower * 2n
  }

  /** True when `power` is more than 1/3 of the total (at least one honest validator in it). */
  hasOneThird(power: bigint): boolean {
    return power * 3n > this.totalVotingPower
  }

  /**
   * A copy with the priorities advanced `times` steps (rescale, centre, then `times` increments),
   * as CometBFT's `CopyIncrementProposerPriority`. The next height's set is `copyIncrementProposerPriority(1)`.
   */
  copyIncrementProposerPriority(times: number): ValidatorSet {
    if (!Number.isSafeInteger(times) || times <= 0) throw invalid(`increment times must be positive, got ${times}`)
    const vals = this.validators.map((v) => ({ ...v }))
    const total = this.totalVotingPower
    rescaleAndCentre(vals, total)
    let proposer = vals[0] as (typeof vals)[number]
    for (let i = 0; i < times; i++) {
      for (const v of vals) v.proposerPriority = clip(v.proposerPriority + v.votingPower)
      proposer = mostPriority(vals)
      proposer.proposerPriority = clip(proposer.proposerPriority - total)
    }
    return new ValidatorSet(vals, proposer, this.scheme)
  }

  /**
   * A copy with validator-set updates applied, as CometBFT's `UpdateWithChangeSet`: power 0 removes
   * a validator, a new address joins with priority −1.125 × the total power after the updates
   * (before removals; so leaving and rejoining cannot reset a negative priority), a changed power
   * keeps its priority; then the priorities are rescaled and centred. The proposer priorities are
   * not incremented (the schedule does that, once per height). The order of `changes` does not matter.
   * @throws CairnError `CONSENSUS_BFT_INVALID_VALIDATOR_SET` on a repeated address, a negative power,
   * a removal of a non-member, an empty result, a total above {@link MAX_TOTAL_VOTING_POWER}, or
   * under a PQ scheme a joiner without its ML-DSA key (a member keeps its key unless a change brings one).
   */
  update(changes: readonly ValidatorChangeInput[]): ValidatorSet {
    if (changes.length === 0) return this
    const seen = new Set<string>()
    const updates: ValidatorChangeInput[] = []
    const removals: string[] = []
    for (const c of changes) {
      const key = hashKey(c.address)
      if (c.address.length !== 20) throw invalid(`a validator address is 20 bytes, got ${c.address.length}`)
      if (seen.has(key)) throw invalid(`validator ${key} appears twice in one update`)
      seen.add(key)
      if (c.votingPower < 0n) throw invalid(`validator ${key}: voting power ${c.votingPower} is negative`)
      if (c.votingPower > MAX_TOTAL_VOTING_POWER)
        throw invalid(`validator ${key}: voting power ${c.votingPower} too high`)
      if (c.votingPower === 0n) {
        if (this.indexOf(c.address) < 0) throw invalid(`cannot remove ${key}: not a validator`)
        removals.push(key)
      } else {
        updates.push(c)
      }
    }
    const removed = new Set(removals)
    const added = updates.filter((u) => this.indexOf(u.address) < 0).length
    if (added === 0 && removals.length === this.size) throw invalid('the updates would leave no validator')
    let removedPower = 0n
    for (const v of this.validators) if (removed.has(hashKey(v.address))) removedPower += v.votingPower
    // The total after the updates, before the removals (CometBFT's `verifyUpdates`).
    let total = this.totalVotingPower
    for (const u of updates) {
      const i = this.indexOf(u.address)
      total += u.votingPower - (i < 0 ? 0n : (this.validators[i] as Validator).votingPower)
    }
    if (total - removedPower > MAX_TOTAL_VOTING_POWER) {
      throw invalid(`total voting power ${total - removedPower} exceeds ${MAX_TOTAL_VOTING_POWER}`)
    }
    const joining = -(total + (total >> 3n))
    const byKey = new Map<string, Validator>()
    for (const v of this.validators) byKey.set(hashKey(v.address), { ...v })
    for (const u of updates) {
      const key = hashKey(u.address)
      const was = byKey.get(key)
      byKey.set(key, {
        address: u.address,
        votingPower: u.votingPower,
        proposerPriority: was === undefined ? joining : was.proposerPriority,
        pqPublicKey: u.pqPublicKey ?? was?.pqPublicKey ?? null,
      })
    }
    for (const key of removed) byKey.delete(key)
    const vals = [...byKey.values()].map((v) => ({ ...v }))
    rescaleAndCentre(
      vals,
      vals.reduce((s, v) => s + v.votingPower, 0n),
    )
    return ValidatorSet.withPriorities(vals, this.scheme)
  }

  /** The index of the proposer of `round` at the height this set is for (round 0: {@link proposer}). */
  proposerIndex(round: number): number {
    if (round === 0) return this.indexOf(this.proposer.address)
    this.#roundProposers ??= new Map()
    let index = this.#roundProposers.get(round)
    if (index === undefined) {
      index = this.indexOf(this.copyIncrementProposerPriority(round).proposer.address)
      this.#roundProposers.set(round, index)
    }
    return index
  }
}

/**
 * CometBFT's `RescalePriorities(2 × total)` then `shiftByAvgProposerPriority`, in place: when the
 * spread exceeds 2 × total power, divide by ceil(spread / (2 × total)) (truncating); then subtract
 * the average (rounded down).
 */
function rescaleAndCentre(vals: { proposerPriority: bigint }[], total: bigint): void {
  const diffMax = PRIORITY_WINDOW_SIZE_FACTOR * total
  let max = INT64_MIN
  let min = INT64_MAX
  for (const v of vals) {
    if (v.proposerPriority > max) max = v.proposerPriority
    if (v.proposerPriority < min) min = v.proposerPriority
  }
  const diff = max - min
  if (diffMax > 0n && diff > diffMax) {
    const ratio = (diff + diffMax - 1n) / diffMax
    for (const v of vals) v.proposerPriority /= ratio
  }
  const avg = floorDiv(
    vals.reduce((s, v) => s + v.proposerPriority, 0n),
    BigInt(vals.length),
  )
  for (const v of vals) v.proposerPriority = clip(v.proposerPriority - avg)
}

/** The validator with the highest priority; ties go to the lower address (CometBFT's `CompareProposerPriority`). */
function mostPriority<V extends Validator>(vals: V[]): V {
  let best = vals[0] as V
  for (let i = 1; i < vals.length; i++) {
    const v = vals[i] as V
    if (
      v.proposerPriority > best.proposerPriority ||
      (v.proposerPriority === best.proposerPriority && compareBytes(v.address, best.address) < 0)
    ) {
      best = v
    }
  }
  return best
}
