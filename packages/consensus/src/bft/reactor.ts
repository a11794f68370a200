/**
 * The BFT engine's network side (CometBFT's consensus reactor, with its catch-up): the consensus
 * topic's messages in — proposals and votes checked at the edge (signed by a validator of their
 * height) and queued for the machine, a peer's evidence verified and pooled, commits ahead of this
 * node kept until their height — and this node's messages out, with a nonce (gossipsub drops bytes
 * it has seen).
 *
 * Catch-up: a node that sees a message of a height it passed answers with `commit` messages (block
 * + certificate) from its store; a node behind says where it is (`status`). Liveness: a node whose
 * (height, round, step) has not moved since the last gossip tick re-publishes its own messages of
 * the height, pending evidence, the round's proposal and the proof-of-lock prevotes of its valid
 * value, and a `status`, so peers that lost them (a partition) catch up and the rounds of a halted
 * network resume once enough validators return.
 */
import { type BlockReader, encodeBlock } from '@cairn/chain'
import { bytesToHex, type Logger } from '@cairn/utils'
import type { BftConfig } from './bft-config.ts'
import type { BftMetrics } from './bft-metrics.ts'
import { type CommitCertificate, decodeCertificate } from './certificate.ts'
import type { BftEvent } from './events.ts'
import { type DuplicateVoteEvidence, decodeEvidence, type EvidencePool, encodeEvidence } from './evidence.ts'
import type { EvidenceRecords } from './evidence-records.ts'
import { type Address, hashKey, MsgType, type SignedProposal, type SignedVote } from './messages.ts'
import type { BftScheduler } from './round-clock.ts'
import type { SignatureVerifier } from './signing.ts'
import type { BftStateMachine } from './state-machine.ts'
import type { ValidatorSchedule } from './validator-schedule.ts'
import { decodeWire, encodeWire, type WireMessage } from './wire.ts'

/** Where consensus messages go and come from: p2p's `ConsensusGossip`, or a test network. */
export interface BftTransport {
  publish(data: Uint8Array): Promise<void> | void
  setHandler(handler: ((data: Uint8Array, from: string) => Promise<'accept' | 'ignore' | 'reject'>) | null): void
}

/** A commit a peer sent ahead of this node's height, kept until the height comes. */
export interface PendingCommit {
  block: Uint8Array
  certificate: CommitCertificate
}

/** Commits kept ahead of the current height, at most. */
const MAX_SYNC_AHEAD = 64
/** Driver steps queued past which messages from the network are ignored. */
const MAX_QUEUED = 10_000

/** What the reactor asks of the engine's driver (its step queue and machine). */
export interface ReactorDriver {
  /** The machine, or null while the engine is stopped. */
  machine(): BftStateMachine | null
  /** Driver steps queued or running. */
  queued(): number
  /** Queues a step (one at a time, in order). */
  enqueue(step: () => Promise<void>): void
  /** Queues `event` for the machine. */
  handle(event: BftEvent): void
  /** Hands `event` to `machine` now and carries out what it decides (within a step). */
  deliver(machine: BftStateMachine, event: BftEvent): Promise<void>
  /** The number of the last block this node committed (what it can send peers behind it). */
  lastCommittedHeight(): number
  /** When this node entered round `round` of `height` (ms), if that is its current round. */
  roundStartedAt(height: number, round: number): number | undefined
  /**
   * A precommit of the height just committed that arrived after the commit: it joins the commit
   * certificate the next block carries (CometBFT's LastCommit), so a validator slower than the
   * first 2/3 is not counted as absent (staking's downtime window reads these certificates).
   */
  latePrecommit(vote: SignedVote, signer: Address): void
}

export interface ConsensusReactorOptions {
  chainId: bigint
  /** How often a stalled node re-publishes its messages (ms). Default: half the propose timeout, at least 200. */
  gossipMs?: number
  config: Pick<BftConfig, 'timeouts'>
}

export interface ConsensusReactorModules {
  logger: Logger
  metrics?: BftMetrics | null
  scheduler: BftScheduler
  /** The consensus topic, if known yet (else given with {@link ConsensusReactor.connect}). */
  transport?: BftTransport
  /** Recovers signers (cached per message object: the machine recovers them again). */
  verifier: SignatureVerifier
  validators: ValidatorSchedule
  evidence: EvidencePool
  /** Where a peer's evidence is made durable before it is accepted. */
  evidenceRecords: Pick<EvidenceRecords, 'changed'>
  /** The attached chain: the stored commits sent to peers behind (throws before `attach`). */
  chain: () => Pick<BlockReader, 'getBlockByNumber' | 'getFinality'>
  driver: ReactorDriver
}

export class ConsensusReactor {
  readonly #opts: ConsensusReactorOptions
  readonly #m: ConsensusReactorModules
  #transport: BftTransport | undefined
  /** This node's signed messages of the current height (re-published when stalled). */
  #own: WireMessage[] = []
  /** Prevotes of the current height by `round/hash`, to relay a proof-of-lock (as the simulator's driver). */
  #prevotesSeen = new Map<string, SignedVote[]>()
  /** Proposals of the current height by round, to relay the round's proposal. */
  #proposalsSeen = new Map<number, SignedProposal>()
  #sync = new Map<number, PendingCommit>()
  /** `kind/signer/round` already measured (the first copy only), by height (the current and the next). */
  #latencySeen = new Map<number, Set<string>>()
  #lastHelp = new Map<number, number>()
  #lastStatusAt = 0
  #lastGossipAt = ''
  #nonce = 0

  constructor(opts: ConsensusReactorOptions, modules: ConsensusReactorModules) {
    this.#opts = opts
    this.#m = modules
    this.#transport = modules.transport
  }

  /** A new consensus topic (the old one no longer handled); handled at once when `listening`. */
  connect(transport: BftTransport, listening: boolean): void {
    this.#transport?.setHandler(null)
    this.#transport = transport
    if (listening) this.listen()
  }

  /** Messages from the topic go to the reactor (the engine started). */
  listen(): void {
    this.#transport?.setHandler((data, from) => this.#onMessage(data, from))
  }

  /** No more messages from the topic (the engine stopped). */
  unlisten(): void {
    this.#transport?.setHandler(null)
  }

  publish(msg: WireMessage): void {
    const t = this.#transport
    if (t === undefined) return
    void Promise.resolve(t.publish(encodeWire(msg, this.#nonce++))).catch((err: unknown) =>
      this.#m.logger.debug({ err }, 'consensus publish failed'),
    )
  }

  /** Duplicate-vote evidence this node's machine found (pooled and made durable): out on the topic. */
  announceEvidence(ev: DuplicateVoteEvidence): void {
    this.publish({ kind: 'evidence', evidence: encodeEvidence(ev) })
    this.#m.logger.warn(
      { validator: bytesToHex(ev.validator), height: ev.voteA.height, round: ev.voteA.round },
      'duplicate vote evidence',
    )
    this.#m.metrics?.evidence.inc()
  }

  /** An own signed message of the current height: published, and re-published while stalled. */
  publishOwn(msg: WireMessage): void {
    this.#own.push(msg)
    this.publish(msg)
  }

  /** An own signed message found in the WAL: kept to re-publish ({@link republishOwn}). */
  keepOwn(msg: WireMessage): void {
    this.#own.push(msg)
  }

  /** Publishes this node's signed messages of the current height again. */
  republishOwn(): void {
    for (const msg of this.#own) this.publish(msg)
  }

  /** The commit a peer sent for `height` ahead of time, if any (taken: handed out once). */
  takeCommit(height: number): PendingCommit | undefined {
    const pending = this.#sync.get(height)
    if (pending !== undefined) this.#sync.delete(height)
    return pending
  }

  /** The machine moved on to `height` (a commit, or a jump): what was kept of the heights below goes. */
  moveTo(height: number): void {
    this.#own = []
    this.#prevotesSeen.clear()
    this.#proposalsSeen.clear()
    for (const h of this.#sync.keys()) if (h < height) this.#sync.delete(h)
  }

  /** The machine's clock started on `height`: the latencies measured for heights below are forgotten. */
  pruneLatency(height: number): void {
    for (const h of this.#latencySeen.keys()) if (h < height) this.#latencySeen.delete(h)
  }

  /** A gossip tick every `gossipMs` while `live()` (the engine's run that started it). */
  startGossip(live: () => boolean): void {
    const ms = this.#opts.gossipMs ?? Math.max(200, Math.floor(this.#opts.config.timeouts.proposeMs / 2))
    this.#m.scheduler.setTimeout(() => {
      if (!live()) return
      this.#m.driver.enqueue(async () => this.#gossip())
      this.startGossip(live)
    }, ms)
  }

  async #onMessage(data: Uint8Array, _from: string): Promise<'accept' | 'ignore' | 'reject'> {
    let msg: WireMessage
    try {
      msg = decodeWire(data, this.#m.validators.scheme)
    } catch {
      return 'reject'
    }
    const driver = this.#m.driver
    const machine = driver.machine()
    if (machine === null) return 'ignore'
    // A flood faster than the driver works is dropped here rather than queued without bound.
    if (driver.queued() > MAX_QUEUED) return 'ignore'
    const height = machine.height
    switch (msg.kind) {
      case 'proposal':
      case 'vote': {
        const h = msg.kind === 'vote' ? msg.vote.height : msg.proposal.height
        // A precommit of the block this node just committed or is committing (late, or while the
        // machine waits for the next height): it joins the certificate the next block carries.
        if (
          msg.kind === 'vote' &&
          msg.vote.type === MsgType.PRECOMMIT &&
          h <= driver.lastCommittedHeight() + 1 &&
          h >= height - 1
        ) {
          const signer = this.#m.verifier.voteSigner(msg.vote)
          if (signer !== null && this.#m.validators.at(h).indexOf(signer) >= 0) driver.latePrecommit(msg.vote, signer)
        }
        if (h < height) {
          this.#help(h)
          return 'ignore'
        }
        // Further ahead than the next height: the machine would drop it; this node is behind.
        if (h > height + 1) {
          this.#askForHelp()
          return 'ignore'
        }
        // Signed by a validator of its height, or the sender relayed a forgery: reject (penalised).
        const verifier = this.#m.verifier
        const signer = msg.kind === 'vote' ? verifier.voteSigner(msg.vote) : verifier.proposalSigner(msg.proposal)
        if (signer === null || this.#m.validators.at(h).indexOf(signer) < 0) return 'reject'
        if (h === height) this.#keep(msg)
        if (msg.kind === 'vote')
          this.#latency(msg.vote.type === MsgType.PREVOTE ? 'prevote' : 'precommit', signer, h, msg.vote.round)
        else this.#latency('proposal', signer, h, msg.proposal.round)
        driver.handle(
          msg.kind === 'vote' ? { kind: 'vote', vote: msg.vote } : { kind: 'proposal', proposal: msg.proposal },
        )
        return 'accept'
      }
      case 'status':
        if (msg.height < height) this.#help(msg.height)
        return 'accept'
      case 'evidence':
        return await this.#onEvidence(msg.evidence, height)
      case 'commit': {
        const h = msg.certificate.height
        if (h < height || h >= height + MAX_SYNC_AHEAD) return 'ignore'
        driver.enqueue(async () => {
          const m = driver.machine()
          if (m === null || h < m.height) return
          if (h === m.height) {
            await driver.deliver(m, { kind: 'certificate', certificate: msg.certificate, block: msg.block })
          } else {
            this.#sync.set(h, msg)
            this.#askForHelp()
          }
        })
        return 'accept'
      }
    }
  }

  /**
   * Evidence from a peer: verified (signatures, validator of its height, conflicting, age) and
   * pooled. Invalid: rejected (the sender is penalised); known, committed, ahead or pool full: ignored.
   */
  async #onEvidence(bytes: Uint8Array, height: number): Promise<'accept' | 'ignore' | 'reject'> {
    let ev: DuplicateVoteEvidence
    let result: ReturnType<EvidencePool['submit']>
    try {
      ev = decodeEvidence(bytes, this.#opts.chainId, this.#m.validators.scheme)
      result = this.#m.evidence.submit(ev, height)
    } catch (err) {
      this.#m.logger.debug({ err }, 'invalid evidence from a peer')
      return 'reject'
    }
    if (result !== 'added') return 'ignore'
    // Durable before it is accepted (gossipsub forwards it then).
    await this.#m.evidenceRecords.changed()
    this.#m.logger.warn(
      { validator: bytesToHex(ev.validator), height: ev.voteA.height, round: ev.voteA.round },
      'duplicate vote evidence from a peer',
    )
    this.#m.metrics?.evidence.inc()
    return 'accept'
  }

  /**
   * The proposal and vote latency histograms: the time since this node entered the message's round
   * (0 when the message came before; nothing for a round this node left), the first copy only.
   */
  #latency(kind: 'proposal' | 'prevote' | 'precommit', signer: Address, height: number, round: number): void {
    const metrics = this.#m.metrics
    const machine = this.#m.driver.machine()
    if (!metrics || machine === null) return
    const ahead = height > machine.height || (height === machine.height && round > machine.round)
    const startedAt = this.#m.driver.roundStartedAt(height, round)
    if (!ahead && startedAt === undefined) return
    let seen = this.#latencySeen.get(height)
    if (seen === undefined) {
      seen = new Set()
      this.#latencySeen.set(height, seen)
    }
    const key = `${kind}/${hashKey(signer)}/${round}`
    if (seen.has(key) || seen.size >= 10_000) return
    seen.add(key)
    const seconds = ahead ? 0 : (this.#m.scheduler.now() - (startedAt as number)) / 1000
    if (kind === 'proposal') metrics.proposalReceiveSeconds.observe(seconds)
    else metrics.voteReceiveSeconds.observe({ type: kind }, seconds)
  }

  /** A peer is at `height`, which this node committed: send it the commits from there (a few). */
  #help(height: number): void {
    const now = this.#m.scheduler.now()
    const last = this.#lastHelp.get(height)
    if (last !== undefined && now - last < 500) return
    this.#lastHelp.set(height, now)
    if (this.#lastHelp.size > 256) this.#lastHelp.clear()
    const top = this.#m.driver.lastCommittedHeight()
    this.#m.driver.enqueue(async () => {
      const chain = this.#m.chain()
      for (let h = height; h <= Math.min(height + 4, top); h++) {
        const block = await chain.getBlockByNumber(BigInt(h))
        if (block === undefined) continue
        const cert = await chain.getFinality(block.hash())
        if (cert === undefined || cert.length === 0) continue
        this.publish({
          kind: 'commit',
          block: encodeBlock(block),
          certificate: decodeCertificate(cert, this.#m.validators.scheme),
        })
      }
    })
  }

  /** This node is behind: say where it is, so peers send it commits. */
  #askForHelp(): void {
    const now = this.#m.scheduler.now()
    const machine = this.#m.driver.machine()
    if (now - this.#lastStatusAt < 500 || machine === null) return
    this.#lastStatusAt = now
    this.publish({ kind: 'status', height: machine.height })
  }

  /** When stalled (the same height, round and step as at the last tick): re-publish own messages and a status. */
  #gossip(): void {
    const m = this.#m.driver.machine()
    if (m === null) return
    const at = `${m.height}/${m.round}/${m.step}`
    const stalled = at === this.#lastGossipAt
    this.#lastGossipAt = at
    if (!stalled) return
    this.republishOwn()
    // Pending evidence: a peer that missed it (a partition) can still put it in its block.
    for (const ev of this.#m.evidence.pending(4)) this.publish({ kind: 'evidence', evidence: encodeEvidence(ev) })
    // The round's proposal, and the proof-of-lock of our valid value (everyone's prevotes for it): a
    // peer that missed them (a partition, a restart) needs them to accept a re-proposal.
    const proposal = this.#proposalsSeen.get(m.round)
    if (proposal !== undefined) this.publish({ kind: 'proposal', proposal })
    const { validRound, validValue } = m.snapshot()
    if (validValue !== null) {
      for (const vote of this.#prevotesSeen.get(`${validRound}/${hashKey(validValue)}`) ?? []) {
        this.publish({ kind: 'vote', vote })
      }
    }
    this.publish({ kind: 'status', height: m.height })
  }

  /** Keeps a message of the current height that a stalled round may need to relay (bounded). */
  #keep(msg: WireMessage): void {
    if (msg.kind === 'proposal') {
      if (this.#proposalsSeen.size < 64 && !this.#proposalsSeen.has(msg.proposal.round)) {
        this.#proposalsSeen.set(msg.proposal.round, msg.proposal)
      }
      return
    }
    if (msg.kind !== 'vote' || msg.vote.type !== MsgType.PREVOTE || this.#prevotesSeen.size >= 256) return
    const key = `${msg.vote.round}/${hashKey(msg.vote.blockHash)}`
    const list = this.#prevotesSeen.get(key) ?? []
    if (list.length < 64) list.push(msg.vote)
    this.#prevotesSeen.set(key, list)
  }
}
