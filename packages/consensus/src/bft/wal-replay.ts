/**
 * The BFT engine's use of its consensus WAL (CometBFT's `replay.go`): every event logged before the
 * machine handles it (only what it `accepts()`), this node's own signed messages with fsync before
 * they leave, and at start the replay of the height's log into the fresh machine — own messages and
 * built blocks found in the log are not signed or built again (their records hand them to the
 * machine: the signer state only moves forward), and go out again once the replay ends.
 */
import { equalsBytes } from '@cairn/utils'
import type { BftAction, BftEvent } from './events.ts'
import type { Address, Proposal, SignedProposal, SignedVote, Vote } from './messages.ts'
import type { SignatureVerifier } from './signing.ts'
import type { BftStateMachine } from './state-machine.ts'
import type { ConsensusWal } from './wal.ts'
import type { WireMessage } from './wire.ts'

export interface EngineWalOptions {
  /** This validator's address, or its addresses while it rotates keys (null: a follower, which signs nothing). */
  self: Address | null | readonly Address[]
}

export interface EngineWalModules {
  /** The consensus WAL; absent: nothing is logged or replayed. */
  wal?: ConsensusWal
  /** Recovers the signers of logged messages (which of them are this node's). */
  verifier: SignatureVerifier
}

/** What the replay hands the engine. */
export interface ReplayHooks {
  /** Carries out the machine's actions (and the events they give back), as the driver does. */
  run(actions: BftAction[]): Promise<void>
  /** An own signed message found in the log (re-published with the others after the replay). */
  own(msg: WireMessage): void
}

export class EngineWal {
  readonly #opts: EngineWalOptions
  readonly #m: EngineWalModules
  /** Events already logged (own signed messages, with fsync before they left). */
  #logged = new WeakSet<BftEvent>()
  /** While replaying: own messages and built blocks the log holds, by `kind/height/round/type`. */
  #replayed: Set<string> | null = null

  constructor(opts: EngineWalOptions, modules: EngineWalModules) {
    this.#opts = opts
    this.#m = modules
  }

  /** True while the log is being replayed into the machine. */
  get replaying(): boolean {
    return this.#replayed !== null
  }

  /** Logs `event` before `machine` handles it (unless logged already, replaying, or one it drops). */
  log(machine: BftStateMachine, event: BftEvent): void {
    const wal = this.#m.wal
    if (wal !== undefined && this.#replayed === null && !this.#logged.has(event) && machine.accepts(event)) {
      wal.append(event)
    }
  }

  /** An own signed message goes into the WAL with fsync before it leaves the node. */
  logSync(event: BftEvent): void {
    if (this.#m.wal === undefined) return
    this.#m.wal.append(event, { sync: true })
    this.#logged.add(event)
  }

  /** The replay holds this node's vote already: not signed again. */
  replayedVote(vote: Vote): boolean {
    return this.#replayed?.has(`vote/${vote.height}/${vote.round}/${vote.type}`) === true
  }

  /** The replay holds this node's proposal already: not signed again. */
  replayedProposal(proposal: Proposal): boolean {
    return this.#replayed?.has(`proposal/${proposal.height}/${proposal.round}`) === true
  }

  /** The replay holds the block this node built for (height, round): not built again. */
  replayedBuild(height: number, round: number): boolean {
    return this.#replayed?.has(`build/${height}/${round}`) === true
  }

  /** Drops the log of the heights below `height` (decided). */
  truncateBelow(height: number): void {
    this.#m.wal?.truncateBelow(height)
  }

  close(): void {
    this.#m.wal?.close()
  }

  /**
   * Starts `machine` at `height`: back where the height was, the logged events into the fresh
   * machine, not logged again. Without a WAL, only the start. The number of events replayed.
   */
  async replay(height: number, machine: BftStateMachine, hooks: ReplayHooks): Promise<number> {
    const wal = this.#m.wal
    if (wal === undefined) {
      await hooks.run(machine.start())
      return 0
    }
    wal.truncateBelow(height)
    const events = wal.replay(height)
    this.#replayed = new Set(events.flatMap((e) => this.#replayKeys(e)))
    try {
      const work = machine.start()
      for (const e of events) {
        await hooks.run(work.splice(0))
        if (e.kind === 'vote' && this.#isOwn(e.vote)) hooks.own({ kind: 'vote', vote: e.vote })
        if (e.kind === 'proposal' && this.#isOwnProposal(e.proposal)) {
          hooks.own({ kind: 'proposal', proposal: e.proposal })
        }
        work.push(...machine.handle(e))
      }
      await hooks.run(work)
    } finally {
      this.#replayed = null
    }
    return events.length
  }

  /** What a logged event stands for, so a replay does not sign or build it again. */
  #replayKeys(e: BftEvent): string[] {
    if (e.kind === 'vote' && this.#isOwn(e.vote)) return [`vote/${e.vote.height}/${e.vote.round}/${e.vote.type}`]
    if (e.kind === 'proposal' && this.#isOwnProposal(e.proposal)) {
      return [`proposal/${e.proposal.height}/${e.proposal.round}`]
    }
    if (e.kind === 'proposalBlock') return [`build/${e.height}/${e.round}`]
    return []
  }

  #isOwn(vote: SignedVote): boolean {
    return this.#mine(this.#opts.self === null ? null : this.#m.verifier.voteSigner(vote))
  }

  #isOwnProposal(p: SignedProposal): boolean {
    return this.#mine(this.#opts.self === null ? null : this.#m.verifier.proposalSigner(p))
  }

  #mine(signer: Address | null): boolean {
    const self = this.#opts.self
    if (self === null || signer === null) return false
    return self instanceof Uint8Array ? equalsBytes(signer, self) : self.some((a) => equalsBytes(signer, a))
  }
}
