/**
 * Tendermint's consensus algorithm as a deterministic state machine: Algorithm 1 of "The latest
 * gossip on BFT consensus" (Buchman, Kwon, Milosevic 2018), as the CometBFT specification states it.
 *
 * `handle(event)` returns the actions the event causes (see `events.ts`); the machine has no clock,
 * no I/O and no randomness, so the same events in the same order give the same actions: the node
 * and the simulator drive the same code, and a write-ahead log of the events restores the state.
 *
 * After every event the machine re-evaluates the paper's `upon` rules against what it holds (the
 * first proposal of each round from that round's proposer, the blocks by hash with their validity,
 * the votes of every round), until none fires:
 *
 * - L22/L28 (step propose, the round's proposal, its block's validity known): prevote the block if
 *   it is valid and either we are not locked, are locked on it, or it carries a proof-of-lock
 *   (polRound, > 2/3 prevotes) from a round at or after our lock; else prevote nil;
 * - L34: > 2/3 prevotes for anything in this round while in prevote: schedule timeoutPrevote;
 * - L36: > 2/3 prevotes for a valid block we hold, first time this round: lock on it and precommit it
 *   (if still in prevote), and remember it as the valid value either way;
 * - L44: > 2/3 prevotes for nil while in prevote: precommit nil;
 * - L47: > 2/3 precommits for anything in this round: schedule timeoutPrecommit;
 * - L49: > 2/3 precommits for a valid block we hold, in any round: commit it, go to the next height;
 * - L55: votes from > 1/3 of the power in a higher round: skip to that round.
 *
 * Timeouts (propose: prevote nil; prevote: precommit nil; precommit: next round) apply only while
 * the machine is still in the (height, round, step) they were scheduled for.
 *
 * Thresholds are by voting power: "2f+1" is more than 2/3 of the total, "f+1" more than 1/3.
 * Small departures, all on the safe side: L36 and L49 need the block (any proposal or catch-up of
 * this height that carried it), not necessarily the proposal of that very round; a proposal waits
 * for its block's validity (the node executes it) until timeoutPropose; and a verified commit
 * certificate from a peer (catch-up) decides the height like L49 does.
 */
import type { CommitCertificate } from './certificate.ts'
import type { BftAction, BftEvent } from './events.ts'
import { duplicateVoteEvidence } from './evidence.ts'
import {
  type Address,
  type BlockHash,
  hashKey,
  MsgType,
  type SignedProposal,
  type SignedVote,
  Step,
  type VoteType,
} from './messages.ts'
import type { SignatureVerifier } from './signing.ts'
import { DEFAULT_TIMEOUTS, type Timeout, type TimeoutConfig, type TimeoutStep, timeoutDuration } from './timeouts.ts'
import type { ValidatorSet } from './validator-set.ts'
import { VoteSet } from './vote-set.ts'

export interface BftStateMachineOptions {
  chainId: bigint
  /**
   * This validator's address; null (or an address outside the set) follows without voting. A
   * function: its address at each height (a rotating consensus key).
   */
  self: Address | null | ((height: number) => Address | null)
  /** The height to decide: the last committed height + 1. */
  height: number
  timeouts?: TimeoutConfig
  /** Messages for rounds further ahead than this are dropped (bounds memory against spam). Default 1000. */
  maxRoundsAhead?: number
}

export interface BftStateMachineModules {
  /** The validator set of a height (known by the time that height starts: changes apply at H+2). */
  validatorSetAt(height: number): ValidatorSet
  /** Who signed a message (secp256k1 recovery by default: `createVerifier(chainId)`). */
  verifier: SignatureVerifier
  /** The hash of a block's bytes, or null when they do not decode: blocks that do not match their hash are dropped. */
  blockHash(block: Uint8Array): BlockHash | null
}

/** What the machine is doing, for tests, metrics and logs. */
export interface BftStateSnapshot {
  height: number
  round: number
  step: Step
  lockedRound: number
  lockedValue: BlockHash | null
  validRound: number
  validValue: BlockHash | null
}

interface HeldBlock {
  hash: BlockHash
  block: Uint8Array
  /** undefined while the driver validates it. */
  valid: boolean | undefined
}

export class BftStateMachine {
  readonly #chainId: bigint
  readonly #self: Address | null | ((height: number) => Address | null)
  readonly #timeouts: TimeoutConfig
  readonly #maxRoundsAhead: number
  readonly #m: BftStateMachineModules

  #height: number
  #round = 0
  #step: Step = Step.NEW_HEIGHT
  #lockedRound = -1
  #lockedValue: string | null = null
  #validRound = -1
  #validValue: string | null = null

  #validators!: ValidatorSet
  #selfIndex = -1
  #proposals = new Map<number, SignedProposal>()
  #blocks = new Map<string, HeldBlock>()
  #prevotes = new Map<number, VoteSet>()
  /** Verified commit certificates of this height (catch-up), by block hash key. */
  #certified = new Map<string, CommitCertificate>()
  #precommits = new Map<number, VoteSet>()
  /** Per round: the indices of validators with any vote in it, and their power (L55). */
  #roundVoters = new Map<number, { voters: Set<number>; power: bigint }>()
  /** Once-per-round rules that fired: `pv:<r>` (L34), `lock:<r>` (L36), `pc:<r>` (L47), `prop:<r>` (proposed). */
  #fired = new Set<string>()
  /** Messages for the next height, replayed when it starts. */
  #future: BftEvent[] = []
  #out: BftAction[] = []
  #started = false

  constructor(opts: BftStateMachineOptions, modules: BftStateMachineModules) {
    this.#chainId = opts.chainId
    this.#self = opts.self
    this.#timeouts = opts.timeouts ?? DEFAULT_TIMEOUTS
    this.#maxRoundsAhead = opts.maxRoundsAhead ?? 1000
    this.#m = modules
    this.#height = opts.height
    this.#resetHeight(opts.height)
  }

  get chainId(): bigint {
    return this.#chainId
  }

  get height(): number {
    return this.#height
  }

  get round(): number {
    return this.#round
  }

  get step(): Step {
    return this.#step
  }

  /** The validator set of the current height. */
  get validators(): ValidatorSet {
    return this.#validators
  }

  snapshot(): BftStateSnapshot {
    return {
      height: this.#height,
      round: this.#round,
      step: this.#step,
      lockedRound: this.#lockedRound,
      lockedValue: this.#lockedValue === null ? null : this.#heldHash(this.#lockedValue),
      validRound: this.#validRound,
      validValue: this.#validValue === null ? null : this.#heldHash(this.#validValue),
    }
  }

  /**
   * The proof-of-lock of the valid value: the prevotes of `validRound` for it (conflicting votes of
   * an equivocator included, as the tally counts them), or [] without a valid value. The driver
   * relays them with a re-proposal: a peer accepts a proposal with `polRound` >= 0 only once it holds
   * > 2/3 prevotes for it in that round (L28), and an equivocator may have sent its prevote for the
   * value to us alone.
   */
  proofOfLock(): SignedVote[] {
    if (this.#validValue === null) return []
    const set = this.#prevotes.get(this.#validRound)
    return set === undefined ? [] : set.votesFor(this.#validValue).map((v) => v.vote)
  }

  /**
   * Every vote this machine holds for `round` of the current height (each validator's first prevote
   * and precommit), for the driver's vote gossip: a peer still in an earlier round is sent that
   * round's votes, as CometBFT's gossip sends a peer the votes it lacks. Tendermint's liveness
   * assumes that gossip (a message one correct validator received reaches every correct validator):
   * without it, a faulty validator's vote that reached only part of the network can leave the rest
   * short of the > 2/3 that would let them time out of the round.
   */
  votes(round: number): SignedVote[] {
    return [...(this.#prevotes.get(round)?.all() ?? []), ...(this.#precommits.get(round)?.all() ?? [])]
  }

  /**
   * False for an event the machine would drop on its height alone (a height already decided, or
   * further ahead than the next one); the driver leaves those out of the WAL, so that a replay
   * hands a fresh machine what this one considered, no more.
   */
  accepts(event: BftEvent): boolean {
    const h =
      event.kind === 'proposal'
        ? event.proposal.height
        : event.kind === 'vote'
          ? event.vote.height
          : event.kind === 'timeout'
            ? event.timeout.height
            : event.kind === 'certificate'
              ? event.certificate.height
              : event.height
    return h === this.#height || h === this.#height + 1
  }

  /** Starts round 0 of the first height. Call once, before any event. */
  start(): BftAction[] {
    if (!this.#started) {
      this.#started = true
      this.#startRound(0)
      this.#evaluate()
    }
    return this.#flush()
  }

  /** Handles one event; returns the actions it causes, in order. */
  handle(event: BftEvent): BftAction[] {
    if (!this.#started) this.start()
    this.#apply(event)
    this.#evaluate()
    return this.#flush()
  }

  // ---------------------------------------------------------------------------------------------
  // Events
  // ---------------------------------------------------------------------------------------------

  #apply(event: BftEvent): void {
    switch (event.kind) {
      case 'proposal':
        this.#onProposal(event.proposal)
        return
      case 'vote':
        this.#onVote(event.vote)
        return
      case 'timeout':
        this.#onTimeout(event.timeout)
        return
      case 'validity': {
        if (event.height !== this.#height) return
        const held = this.#blocks.get(hashKey(event.blockHash))
        if (held !== undefined && held.valid === undefined) held.valid = event.valid
        return
      }
      case 'proposalBlock':
        this.#onProposalBlock(event.height, event.round, event.blockHash, event.block)
        return
      case 'certificate':
        if (event.certificate.height === this.#height) this.#onCertificate(event.certificate, event.block)
        else if (event.certificate.height === this.#height + 1) this.#defer(event)
        return
    }
  }

  #defer(event: BftEvent): void {
    if (this.#future.length < 8 * this.#validators.size + 16) this.#future.push(event)
  }

  #roundInRange(round: number): boolean {
    return Number.isSafeInteger(round) && round >= 0 && round <= this.#round + this.#maxRoundsAhead
  }

  #onProposal(p: SignedProposal): void {
    if (p.height === this.#height + 1) {
      this.#defer({ kind: 'proposal', proposal: p })
      return
    }
    if (p.height !== this.#height || !this.#roundInRange(p.round)) return
    if (!Number.isSafeInteger(p.polRound) || p.polRound < -1 || p.polRound >= p.round) return
    if (this.#proposals.has(p.round)) return // the first proposal of a round wins (a second one is the proposer's equivocation)
    const signer = this.#m.verifier.proposalSigner(p)
    if (signer === null || this.#validators.indexOf(signer) !== this.#validators.proposerIndex(p.round)) return
    if (!this.#holdBlock(p.blockHash, p.block, undefined)) return
    this.#proposals.set(p.round, p)
  }

  /** Keeps a block (checking its hash); asks for validation when its validity is unknown. False on a hash mismatch. */
  #holdBlock(hash: BlockHash, block: Uint8Array, valid: boolean | undefined): boolean {
    const key = hashKey(hash)
    const held = this.#blocks.get(key)
    if (held !== undefined) {
      if (valid !== undefined && held.valid === undefined) held.valid = valid
      return true
    }
    const actual = this.#m.blockHash(block)
    if (actual === null || hashKey(actual) !== key) return false
    this.#blocks.set(key, { hash, block, valid })
    if (valid === undefined) this.#out.push({ kind: 'validateBlock', height: this.#height, blockHash: hash, block })
    return true
  }

  #onVote(vote: SignedVote): void {
    if (vote.height === this.#height + 1) {
      this.#defer({ kind: 'vote', vote })
      return
    }
    if (vote.height !== this.#height || !this.#roundInRange(vote.round)) return
    if (vote.type !== MsgType.PREVOTE && vote.type !== MsgType.PRECOMMIT) return
    if (vote.blockHash !== null && vote.blockHash.length !== 32) return
    const signer = this.#m.verifier.voteSigner(vote)
    if (signer === null) return
    const index = this.#validators.indexOf(signer)
    if (index < 0) return
    const set = this.#voteSet(vote.type, vote.round)
    const result = set.add(vote, index)
    if (result.kind === 'conflict') {
      this.#out.push({ kind: 'evidence', evidence: duplicateVoteEvidence(signer, result.existing, vote) })
      return
    }
    if (result.kind !== 'added') return
    let rv = this.#roundVoters.get(vote.round)
    if (rv === undefined) {
      rv = { voters: new Set(), power: 0n }
      this.#roundVoters.set(vote.round, rv)
    }
    if (!rv.voters.has(index)) {
      rv.voters.add(index)
      rv.power += this.#validators.at(index)?.votingPower ?? 0n
    }
  }

  #onCertificate(cert: CommitCertificate, block: Uint8Array): void {
    const key = hashKey(cert.blockHash)
    if (this.#certified.has(key)) return
    let power = 0n
    const seen = new Set<number>()
    for (const s of cert.signatures) {
      const v = this.#validators.at(s.validatorIndex)
      if (v === undefined || seen.has(s.validatorIndex)) return
      seen.add(s.validatorIndex)
      const signer = this.#m.verifier.voteSigner({
        type: MsgType.PRECOMMIT,
        height: cert.height,
        round: cert.round,
        blockHash: cert.blockHash,
        signature: s.signature,
        // Under ml-dsa-65 the entry's index names the signer (no recovery); ignored otherwise.
        validator: v.address,
      })
      if (signer === null || hashKey(signer) !== hashKey(v.address)) return
      power += v.votingPower
    }
    if (this.#validators.hasTwoThirds(power) && this.#holdBlock(cert.blockHash, block, undefined)) {
      this.#certified.set(key, cert)
    }
  }

  #onProposalBlock(height: number, round: number, hash: BlockHash, block: Uint8Array): void {
    if (height !== this.#height || round !== this.#round || this.#step !== Step.PROPOSE) return
    if (this.#proposals.has(round) || !this.#fired.has(`prop:${round}`) || this.#fired.has(`sent:${round}`)) return
    if (!this.#holdBlock(hash, block, true)) return
    this.#fired.add(`sent:${round}`)
    this.#out.push({ kind: 'broadcastProposal', proposal: { height, round, polRound: -1, blockHash: hash, block } })
  }

  #onTimeout(t: Timeout): void {
    if (t.height !== this.#height) return
    switch (t.step) {
      case 'propose':
        if (t.round === this.#round && this.#step === Step.PROPOSE) {
          this.#vote(MsgType.PREVOTE, null)
          this.#step = Step.PREVOTE
        }
        return
      case 'prevote':
        if (t.round === this.#round && this.#step === Step.PREVOTE) {
          this.#vote(MsgType.PRECOMMIT, null)
          this.#step = Step.PRECOMMIT
        }
        return
      case 'precommit':
        if (t.round === this.#round && this.#step !== Step.NEW_HEIGHT) this.#startRound(t.round + 1)
        return
      case 'commit':
        if (this.#step === Step.NEW_HEIGHT && this.#round === 0) this.#startRound(0)
        return
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The rules
  // ---------------------------------------------------------------------------------------------

  #evaluate(): void {
    for (let guard = 0; guard < 10_000; guard++) {
      if (!this.#evaluateOnce()) return
    }
  }

  /** Fires the first rule that applies; true when one did (evaluate again). */
  #evaluateOnce(): boolean {
    // L49: a decision, from any round's precommits.
    for (const [round, set] of this.#precommits) {
      const key = set.twoThirdsMajority()
      if (key === undefined || key === 'nil') continue
      if (this.#blocks.get(key)?.valid === true) {
        this.#commit(round, key)
        return true
      }
    }
    // A peer's certificate (catch-up) decides as well.
    for (const [key, cert] of this.#certified) {
      if (this.#blocks.get(key)?.valid === true) {
        this.#decide(cert)
        return true
      }
    }
    // L55: more than 1/3 of the power is in a higher round.
    let skipTo = -1
    for (const [round, rv] of this.#roundVoters) {
      if (round > this.#round && round > skipTo && this.#validators.hasOneThird(rv.power)) skipTo = round
    }
    if (skipTo > this.#round) {
      this.#startRound(skipTo)
      return true
    }
    if (this.#step === Step.NEW_HEIGHT) return false
    const r = this.#round
    // L22 / L28: prevote on the round's proposal.
    const proposal = this.#proposals.get(r)
    if (this.#step === Step.PROPOSE && proposal !== undefined) {
      const key = hashKey(proposal.blockHash)
      const valid = this.#blocks.get(key)?.valid
      const vr = proposal.polRound
      if (valid !== undefined && vr === -1) {
        const ok = valid && (this.#lockedRound === -1 || this.#lockedValue === key)
        this.#vote(MsgType.PREVOTE, ok ? proposal.blockHash : null)
        this.#step = Step.PREVOTE
        return true
      }
      if (valid !== undefined && vr >= 0 && vr < r && this.#prevotes.get(vr)?.twoThirdsMajority() === key) {
        const ok = valid && (this.#lockedRound <= vr || this.#lockedValue === key)
        this.#vote(MsgType.PREVOTE, ok ? proposal.blockHash : null)
        this.#step = Step.PREVOTE
        return true
      }
    }
    const prevotes = this.#prevotes.get(r)
    if (this.#step >= Step.PREVOTE && prevotes !== undefined) {
      // L34
      if (this.#step === Step.PREVOTE && prevotes.hasTwoThirdsAny() && !this.#fired.has(`pv:${r}`)) {
        this.#fired.add(`pv:${r}`)
        this.#schedule('prevote', r)
        return true
      }
      const maj = prevotes.twoThirdsMajority()
      // L36
      if (maj !== undefined && maj !== 'nil' && !this.#fired.has(`lock:${r}`)) {
        const held = this.#blocks.get(maj)
        if (held?.valid === true) {
          this.#fired.add(`lock:${r}`)
          if (this.#step === Step.PREVOTE) {
            this.#lockedValue = maj
            this.#lockedRound = r
            this.#vote(MsgType.PRECOMMIT, held.hash)
            this.#step = Step.PRECOMMIT
          }
          this.#validValue = maj
          this.#validRound = r
          return true
        }
      }
      // L44
      if (maj === 'nil' && this.#step === Step.PREVOTE) {
        this.#vote(MsgType.PRECOMMIT, null)
        this.#step = Step.PRECOMMIT
        return true
      }
    }
    // L47
    if (this.#precommits.get(r)?.hasTwoThirdsAny() && !this.#fired.has(`pc:${r}`)) {
      this.#fired.add(`pc:${r}`)
      this.#schedule('precommit', r)
      return true
    }
    return false
  }

  #startRound(round: number): void {
    this.#round = round
    this.#step = Step.PROPOSE
    this.#schedule('propose', round)
    if (this.#selfIndex < 0 || this.#validators.proposerIndex(round) !== this.#selfIndex) return
    if (this.#fired.has(`prop:${round}`)) return
    this.#fired.add(`prop:${round}`)
    const valid = this.#validValue === null ? undefined : this.#blocks.get(this.#validValue)
    if (valid !== undefined) {
      this.#fired.add(`sent:${round}`)
      this.#out.push({
        kind: 'broadcastProposal',
        proposal: {
          height: this.#height,
          round,
          polRound: this.#validRound,
          blockHash: valid.hash,
          block: valid.block,
        },
      })
    } else {
      this.#out.push({ kind: 'buildBlock', height: this.#height, round })
    }
  }

  #commit(round: number, key: string): void {
    const held = this.#blocks.get(key) as HeldBlock
    const set = this.#precommits.get(round) as VoteSet
    this.#decide({
      height: this.#height,
      round,
      blockHash: held.hash,
      signatures: set.votesFor(key).map(({ validatorIndex, vote }) => ({ validatorIndex, signature: vote.signature })),
    })
  }

  #decide(certificate: CommitCertificate): void {
    const held = this.#blocks.get(hashKey(certificate.blockHash)) as HeldBlock
    const round = certificate.round
    // CometBFT's enterPrecommit before enterCommit: a validator that decides the round it is in
    // before it precommitted there (slower than the others: their precommits arrived before its own
    // prevote step ended) precommits the decided block first. More than 2/3 precommitted it in this
    // round, and the height is decided here, so it can sign nothing that conflicts; its precommit
    // then joins the certificate the next block carries (the late-precommit path) instead of never
    // existing — otherwise the slowest validator is counted absent at most heights. That includes
    // a decision of round 0 while it still waits after its last commit (NEW_HEIGHT, CometBFT's
    // enterNewRound, enterPrecommit, enterCommit on a quorum of precommits): a validator whose
    // heights start later than the others' decides each height in that wait, and would otherwise
    // never vote again outside its own proposals (the healthy devnet's CairnMissedSignatures).
    if (round === this.#round && this.#step < Step.PRECOMMIT) {
      this.#vote(MsgType.PRECOMMIT, held.hash)
      this.#step = Step.PRECOMMIT
    }
    this.#out.push({
      kind: 'commit',
      height: this.#height,
      round,
      blockHash: held.hash,
      block: held.block,
      certificate,
    })
    const future = this.#future
    this.#resetHeight(this.#height + 1)
    if (this.#timeouts.commitMs > 0) {
      this.#out.push({
        kind: 'scheduleTimeout',
        timeout: { step: 'commit', height: this.#height, round: 0 },
        delayMs: this.#timeouts.commitMs,
      })
    } else {
      this.#startRound(0)
    }
    for (const event of future) this.#apply(event)
  }

  #resetHeight(height: number): void {
    this.#height = height
    this.#round = 0
    this.#step = Step.NEW_HEIGHT
    this.#lockedRound = -1
    this.#lockedValue = null
    this.#validRound = -1
    this.#validValue = null
    this.#validators = this.#m.validatorSetAt(height)
    const self = typeof this.#self === 'function' ? this.#self(height) : this.#self
    this.#selfIndex = self === null ? -1 : this.#validators.indexOf(self)
    this.#proposals = new Map()
    this.#blocks = new Map()
    this.#prevotes = new Map()
    this.#certified = new Map()
    this.#precommits = new Map()
    this.#roundVoters = new Map()
    this.#fired = new Set()
    this.#future = []
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  #voteSet(type: VoteType, round: number): VoteSet {
    const sets = type === MsgType.PREVOTE ? this.#prevotes : this.#precommits
    let set = sets.get(round)
    if (set === undefined) {
      set = new VoteSet(this.#height, round, type, this.#validators)
      sets.set(round, set)
    }
    return set
  }

  #vote(type: VoteType, blockHash: BlockHash | null): void {
    if (this.#selfIndex < 0) return
    this.#out.push({ kind: 'broadcastVote', vote: { type, height: this.#height, round: this.#round, blockHash } })
  }

  #schedule(step: TimeoutStep, round: number): void {
    this.#out.push({
      kind: 'scheduleTimeout',
      timeout: { step, height: this.#height, round },
      delayMs: timeoutDuration(this.#timeouts, step, round),
    })
  }

  #heldHash(key: string): BlockHash | null {
    return this.#blocks.get(key)?.hash ?? null
  }

  #flush(): BftAction[] {
    const out = this.#out
    this.#out = []
    return out
  }
}
