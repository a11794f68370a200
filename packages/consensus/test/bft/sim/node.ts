/**
 * A simulated validator: the driver around one `BftStateMachine`, as the node will be. It signs
 * through a `ValidatorSigner` (signer state first), keeps a WAL of the machine's inputs for the
 * current height, an evidence pool and its committed chain (all three survive a crash; an
 * amnesiac validator loses its WAL), retransmits its own messages, and helps peers that are behind
 * with commits (block + certificate). Byzantine validators bypass the signer state and misbehave.
 */

import { errorMessage } from '@cairn/utils'
import {
  type BftAction,
  type BftEvent,
  BftStateMachine,
  type BftStateSnapshot,
  type CommitCertificate,
  ConsensusWal,
  type DuplicateVoteEvidence,
  EvidencePool,
  eventHeight,
  hashKey,
  MemorySignerState,
  MemoryWalStorage,
  type Proposal,
  proposalDigest,
  type SignedProposal,
  type SignedVote,
  signStepOf,
  ValidatorSigner,
  type Vote,
  voteDigest,
} from '../../../src/index.ts'
import { blockHash, encodeBlock, isValidBlock } from './blocks.ts'
import { simKey } from './keys.ts'
import type { Behaviour } from './scenario.ts'
import type { World } from './world.ts'

export type WireMsg =
  | { kind: 'proposal'; proposal: SignedProposal }
  | { kind: 'vote'; vote: SignedVote }
  | { kind: 'commit'; height: number; blockHash: Uint8Array; block: Uint8Array; certificate: CommitCertificate }
  | { kind: 'status'; height: number; round: number }
  | { kind: 'evidence'; evidence: DuplicateVoteEvidence }

export class SimNode {
  readonly index: number
  readonly behaviour: Behaviour
  readonly amnesiac: boolean
  readonly address: Uint8Array
  // Durable across crashes.
  readonly signerState = new MemorySignerState()
  readonly evidence: EvidencePool
  readonly chain: { hash: Uint8Array; block: Uint8Array; certificate: CommitCertificate }[] = []
  /** The WAL's bytes (the real record format, in memory): durable, unless the validator is amnesiac. */
  walStorage = new MemoryWalStorage()
  wal = ConsensusWal.inMemory(this.walStorage)
  /** Whether the last WAL append was synced (a crash can tear only an unsynced record). */
  #lastAppendSynced = true
  /** The last event appended to the WAL (what a torn write loses). */
  #lastAppended: BftEvent | null = null
  /** Where the machine was when it crashed with its WAL whole: the restart must be back there (or further). */
  #crashedAt: BftStateSnapshot | null = null
  // Lost on a crash.
  machine: BftStateMachine | null = null
  incarnation = 0
  #own: WireMsg[] = []
  #proposalsSeen = new Map<string, SignedProposal>()
  #sync = new Map<number, Extract<WireMsg, { kind: 'commit' }>>()
  #lastHelp = new Map<string, number>()
  #replaying = false
  #lastGossipAt = ''
  #draining = false
  readonly #world: World
  readonly #signer: ValidatorSigner

  constructor(world: World, index: number, behaviour: Behaviour, amnesiac: boolean) {
    this.#world = world
    this.index = index
    this.behaviour = behaviour
    this.amnesiac = amnesiac
    this.address = simKey(index).address
    this.evidence = new EvidencePool(
      { chainId: world.chainId, maxAgeHeights: 100 },
      { validatorSetAt: (h) => world.validatorSetAt(h), recover: world.crypto.recover },
    )
    this.#signer = new ValidatorSigner(
      { chainId: world.chainId, privateKey: simKey(index).privateKey },
      { state: this.signerState, sign: (d) => world.crypto.sign(index, d) },
    )
  }

  get honest(): boolean {
    return this.behaviour === 'honest'
  }

  get height(): number {
    return this.chain.length + 1
  }

  /** Starts (or restarts) the machine at the height after the last committed block, replaying the WAL. */
  boot(): void {
    this.incarnation++
    const w = this.#world
    this.machine = new BftStateMachine(
      { chainId: w.chainId, self: this.address, height: this.height, timeouts: w.timeouts },
      { validatorSetAt: (h) => w.validatorSetAt(h), verifier: w.crypto.verifier(w.chainId), blockHash },
    )
    // Reopening the WAL cuts off a record torn by the crash; then the height's events, replayed.
    this.wal = ConsensusWal.inMemory(this.walStorage)
    const events = this.wal.replay(this.height)
    this.#replaying = true
    this.#process(this.machine.start())
    for (const event of events) this.#process(this.machine.handle(event))
    this.#replaying = false
    const was = this.#crashedAt
    this.#crashedAt = null
    if (was !== null && this.behaviour === 'honest') {
      w.recorder.walRestarts++
      const now = this.machine.snapshot()
      const behind =
        now.height < was.height ||
        (now.height === was.height &&
          (now.round < was.round ||
            (now.round === was.round && now.step < was.step) ||
            now.lockedRound < was.lockedRound))
      if (behind) {
        w.recorder.fail(
          `wal: node ${this.index} restarted at ${now.height}/${now.round}/${now.step} locked ${now.lockedRound}, before the ${was.height}/${was.round}/${was.step} locked ${was.lockedRound} it crashed in`,
        )
      }
    }
    this.#own = events.flatMap((e): WireMsg[] =>
      e.kind === 'vote' && this.#isOwn(e.vote)
        ? [{ kind: 'vote', vote: e.vote }]
        : e.kind === 'proposal' && this.#isOwnProposal(e.proposal)
          ? [{ kind: 'proposal', proposal: e.proposal }]
          : [],
    )
    w.scheduleGossip(this)
  }

  crash(): void {
    const at = this.machine?.snapshot() ?? null
    this.machine = null
    this.incarnation++
    this.#own = []
    this.#proposalsSeen.clear()
    this.#sync.clear()
    // A crash in the middle of an unsynced append leaves a torn last record (never a synced one:
    // fsync returned before the message left). Tear a few bytes, less than any record's length.
    const lost = this.#lastAppended
    if (!this.#lastAppendSynced && lost !== null && this.#world.rng.chance(0.5)) {
      // The last write only, in its own segment (the next height's may hold later-numbered records).
      this.walStorage.tear(this.#world.rng.int(1, 7), eventHeight(lost))
      this.#world.recorder.tornWalRecords++
      // The node lost that vote: it no longer counts as one it saw (for the evidence invariant).
      if (lost.kind === 'vote') {
        const signer = this.#world.crypto.verifier(this.#world.chainId).voteSigner(lost.vote)
        if (signer !== null) this.#world.recorder.lostVote(this.index, lost.vote, signer)
      }
    } else if (!this.amnesiac) {
      this.#crashedAt = at
    }
    if (this.amnesiac) {
      this.walStorage = new MemoryWalStorage()
      this.#world.recorder.forgetVotes(this.index)
    }
  }

  /** Hands an event to the machine (logged in the WAL first, unless it already is) and carries out its actions. */
  input(event: BftEvent, logged = false): void {
    if (this.machine === null) return
    // What the machine drops on its height alone stays out of the WAL (seed 3024: prevotes of height
    // + 2, logged, made the replay lock where the original had not).
    if (!logged && this.machine.accepts(event)) {
      this.wal.append(event)
      this.#lastAppendSynced = false
      this.#lastAppended = event
    }
    this.#process(this.machine.handle(event))
    this.#drainSync()
  }

  /** A message from the network. */
  receive(from: number, msg: WireMsg): void {
    const m = this.machine
    if (m === null) return
    switch (msg.kind) {
      case 'proposal': {
        const p = msg.proposal
        if (p.height < m.height) {
          this.#help(from, p.height)
          return
        }
        this.#proposalsSeen.set(`${p.height}/${p.round}`, p)
        this.input({ kind: 'proposal', proposal: p })
        return
      }
      case 'vote': {
        const v = msg.vote
        if (v.height < m.height) {
          this.#help(from, v.height)
          return
        }
        if (this.honest && v.height === m.height) {
          const signer = this.#world.crypto.verifier(this.#world.chainId).voteSigner(v)
          // Only a member of the height's set can be caught equivocating (a removed validator's votes are dropped).
          if (signer !== null && this.#world.validatorSetAt(v.height).indexOf(signer) >= 0)
            this.#world.recorder.sawVote(this.index, v.height, v.round, v.type, signer, v.blockHash)
        }
        this.input({ kind: 'vote', vote: v })
        return
      }
      case 'status':
        if (msg.height < m.height) this.#help(from, msg.height)
        else if (msg.height === m.height && msg.round < m.round) this.#relayRound(from, msg.round)
        return
      case 'evidence':
        this.#submitEvidence(msg.evidence)
        return
      case 'commit':
        if (msg.height >= m.height && msg.height < m.height + 32) this.#sync.set(msg.height, msg)
        this.#drainSync()
        return
    }
  }

  /** Retransmission when stalled: own messages of this height, the round's proposal, or a status. */
  gossip(): void {
    const m = this.machine
    if (m === null || this.behaviour === 'silent') return
    // Only when stalled: the same (height, round, step) as at the last gossip.
    const at = `${m.height}/${m.round}/${m.step}`
    const stalled = at === this.#lastGossipAt
    this.#lastGossipAt = at
    if (!stalled) return
    // Every own message of this height (a few per round): a peer still in an earlier round needs
    // that round's votes to time out of it, and a re-proposal needs the proof-of-lock's prevotes.
    const relay = this.#proposalsSeen.get(`${m.height}/${m.round}`)
    const recent = [...this.#own]
    // And the proof-of-lock of our valid value, everyone's prevotes (an equivocator may have sent
    // its prevote for it to us only; the others need it to accept the re-proposal), as CometBFT's
    // vote gossip relays the votes a peer lacks.
    // The machine's own tally is the source (not a side list of the driver's): it holds every
    // prevote it counted, including those that arrived while it was still deciding the previous
    // height (seed 2306: an equivocator's prevote for the lock, deferred, was missing from the relay).
    for (const v of m.proofOfLock()) {
      if (!this.#isOwn(v)) recent.push({ kind: 'vote', vote: v })
    }
    if (relay !== undefined && !this.#isOwnProposal(relay)) recent.push({ kind: 'proposal', proposal: relay })
    // And where we are, so a peer in a later round of this height sends us the votes of our round
    // (the gossip property Tendermint's liveness assumes; seed 54598).
    recent.push({ kind: 'status', height: m.height, round: m.round })
    for (const msg of recent) this.#world.broadcast(this.index, msg)
  }

  /** Verifies and adds evidence; a piece an honest node's pool refuses is a violation (it came from verified votes). */
  #submitEvidence(ev: DuplicateVoteEvidence): boolean {
    try {
      return this.evidence.submit(ev, this.height) === 'added'
    } catch (err) {
      if (this.honest) this.#world.recorder.fail(`evidence: node ${this.index} refused evidence: ${errorMessage(err)}`)
      return false
    }
  }

  /** Sends a peer behind us in this height the votes we hold for its round (rate-limited per peer and round). */
  #relayRound(peer: number, round: number): void {
    const m = this.machine
    if (m === null || this.behaviour === 'silent') return
    const key = `${peer}/${m.height}/r${round}`
    const last = this.#lastHelp.get(key)
    if (last !== undefined && this.#world.now - last < 500) return
    this.#lastHelp.set(key, this.#world.now)
    for (const vote of m.votes(round)) this.#world.send(this.index, peer, { kind: 'vote', vote })
  }

  #help(peer: number, height: number): void {
    const key = `${peer}/${height}`
    const last = this.#lastHelp.get(key)
    if (last !== undefined && this.#world.now - last < 500) return
    this.#lastHelp.set(key, this.#world.now)
    for (let h = height; h <= Math.min(height + 4, this.chain.length); h++) {
      const c = this.chain[h - 1]
      if (c === undefined) continue
      this.#world.send(this.index, peer, {
        kind: 'commit',
        height: h,
        blockHash: c.hash,
        block: c.block,
        certificate: c.certificate,
      })
    }
  }

  #drainSync(): void {
    if (this.#draining) return
    this.#draining = true
    try {
      for (;;) {
        const m = this.machine
        if (m === null) return
        const c = this.#sync.get(m.height)
        if (c === undefined) return
        this.#sync.delete(m.height)
        const before = m.height
        this.input({ kind: 'certificate', certificate: c.certificate, block: c.block })
        if (this.machine?.height === before) return // waits for the block's validity
      }
    } finally {
      this.#draining = false
    }
  }

  #process(actions: BftAction[]): void {
    for (const a of actions) this.#act(a)
  }

  #act(a: BftAction): void {
    const w = this.#world
    switch (a.kind) {
      case 'broadcastProposal':
        this.#sendProposal(a.proposal)
        return
      case 'broadcastVote':
        this.#sendVote(a.vote)
        return
      case 'scheduleTimeout':
        w.scheduleTimeout(this, a.timeout, a.delayMs)
        return
      case 'buildBlock': {
        const block = encodeBlock({
          height: a.height,
          proposer: this.index,
          round: a.round,
          variant: 0,
          valid: this.behaviour !== 'invalid-proposal',
        })
        w.local(
          this,
          { kind: 'proposalBlock', height: a.height, round: a.round, blockHash: blockHash(block), block },
          w.rng.int(0, 10),
        )
        return
      }
      case 'validateBlock':
        w.local(
          this,
          { kind: 'validity', height: a.height, blockHash: a.blockHash, valid: isValidBlock(a.block, a.height) },
          w.rng.int(0, 20),
        )
        return
      case 'commit': {
        if (a.height !== this.chain.length + 1) {
          w.recorder.fail(`node ${this.index} committed height ${a.height} after ${this.chain.length}`)
          return
        }
        this.chain.push({ hash: a.blockHash, block: a.block, certificate: a.certificate })
        w.recorder.maxRound = Math.max(w.recorder.maxRound, a.round)
        // The next height's messages the machine received early (it replays them when the height
        // starts) stay in the WAL: a restart must see them again.
        this.wal.truncateBelow(a.height + 1)
        this.#own = []
        this.#sync.delete(a.height)
        if (this.behaviour === 'honest')
          w.recorder.commit(this.index, a.height, a.blockHash, isValidBlock(a.block, a.height))
        return
      }
      case 'evidence':
        // Through the pool's verification (signatures, the set of that height, the age limit), as
        // evidence from a peer or a block would go; then gossiped, and each peer verifies it again.
        if (this.#submitEvidence(a.evidence)) {
          w.recorder.onEvidence(a.evidence)
          if (this.behaviour !== 'silent') w.broadcast(this.index, { kind: 'evidence', evidence: a.evidence })
        }
        return
    }
  }

  #sendVote(vote: Vote): void {
    const w = this.#world
    const coalition = this.behaviour === 'double-propose' && w.doubleProposals.has(`${vote.height}/${vote.round}`)
    if (
      this.behaviour === 'honest' ||
      this.behaviour === 'invalid-proposal' ||
      (this.behaviour === 'double-propose' && !coalition)
    ) {
      const signed = this.#signer.signVote(vote)
      if ('refused' in signed) {
        if (!this.#replaying) w.recorder.refusals++
        return
      }
      if (this.behaviour === 'honest') {
        w.recorder.honestSigned(this.index, vote.height, vote.round, signStepOf(vote.type), vote.blockHash)
        w.recorder.memberSigned(
          this.index,
          vote.height,
          w.validatorSetAt(vote.height).indexOf(this.address) >= 0,
          w.joined(this.index, vote.height),
        )
      }
      this.#emit({ kind: 'vote', vote: signed })
      return
    }
    // Byzantine: no signer state.
    let v = vote
    if (this.behaviour === 'ignore-locks') {
      const p = this.#proposalsSeen.get(`${vote.height}/${vote.round}`)
      if (p !== undefined) v = { ...vote, blockHash: p.blockHash }
    }
    const signed = this.#rawVote(v)
    if (this.behaviour === 'silent') {
      w.local(this, { kind: 'vote', vote: signed }, 0)
      return
    }
    if (this.behaviour === 'equivocate' || coalition) {
      // The byzantine coalition splits the network in two fixed halves: when a byzantine proposer
      // double-proposed this round, vote for its first block to one half and its second to the
      // other (the classic attack on agreement); otherwise, for the vote to one half and another
      // value to the other.
      const pair = w.doubleProposals.get(`${vote.height}/${vote.round}`)
      let first = signed
      let alt: SignedVote
      if (pair !== undefined) {
        first = this.#rawVote({ ...v, blockHash: pair[0] })
        alt = this.#rawVote({ ...v, blockHash: pair[1] })
      } else {
        const p = this.#proposalsSeen.get(`${vote.height}/${vote.round}`)
        const other =
          v.blockHash === null ? (p?.blockHash ?? blockHash(new Uint8Array([this.index, vote.round]))) : null
        alt = this.#rawVote({ ...v, blockHash: other })
      }
      for (const peer of w.peersOf(this.index))
        w.send(this.index, peer, { kind: 'vote', vote: w.splitA.has(peer) ? first : alt })
      this.#own.push({ kind: 'vote', vote: first })
      w.local(this, { kind: 'vote', vote: first }, 0)
      return
    }
    this.#emit({ kind: 'vote', vote: signed })
  }

  #sendProposal(p: Proposal): void {
    const w = this.#world
    if (this.behaviour === 'honest') {
      const signed = this.#signer.signProposal(p)
      if ('refused' in signed) {
        if (!this.#replaying) w.recorder.refusals++
        return
      }
      w.recorder.honestSigned(this.index, p.height, p.round, 1, p.blockHash)
      w.recorder.memberSigned(
        this.index,
        p.height,
        w.validatorSetAt(p.height).indexOf(this.address) >= 0,
        w.joined(this.index, p.height),
      )
      w.recorder.proposed.add(hashKey(p.blockHash))
      this.#emit({ kind: 'proposal', proposal: signed })
      return
    }
    const signed = this.#rawProposal(p)
    w.recorder.proposed.add(hashKey(p.blockHash))
    if (this.behaviour === 'silent') {
      w.local(this, { kind: 'proposal', proposal: signed }, 0)
      return
    }
    if (this.behaviour === 'double-propose' && p.polRound === -1) {
      const block = encodeBlock({ height: p.height, proposer: this.index, round: p.round, variant: 1, valid: true })
      const alt = this.#rawProposal({ ...p, blockHash: blockHash(block), block })
      w.recorder.proposed.add(hashKey(alt.blockHash))
      w.doubleProposals.set(`${p.height}/${p.round}`, [signed.blockHash, alt.blockHash])
      for (const peer of w.peersOf(this.index)) {
        w.send(this.index, peer, { kind: 'proposal', proposal: w.splitA.has(peer) ? signed : alt })
      }
      this.#own.push({ kind: 'proposal', proposal: signed })
      w.local(this, { kind: 'proposal', proposal: signed }, 0)
      return
    }
    this.#emit({ kind: 'proposal', proposal: signed })
  }

  /** Sends a signed message to every peer, keeps it for retransmission and hands it back to the machine. */
  #emit(msg: Extract<WireMsg, { kind: 'vote' | 'proposal' }>): void {
    const w = this.#world
    const event: BftEvent =
      msg.kind === 'vote' ? { kind: 'vote', vote: msg.vote } : { kind: 'proposal', proposal: msg.proposal }
    // Logged and synced before it leaves (a restart rejoins with it); handed back to the machine
    // without logging it twice.
    this.wal.append(event, { sync: true })
    this.#lastAppendSynced = true
    this.#own.push(msg)
    w.broadcast(this.index, msg)
    w.local(this, event, 0, true)
  }

  #rawVote(v: Vote): SignedVote {
    return { ...v, signature: this.#world.crypto.sign(this.index, voteDigest(this.#world.chainId, v)) }
  }

  #rawProposal(p: Proposal): SignedProposal {
    return { ...p, signature: this.#world.crypto.sign(this.index, proposalDigest(this.#world.chainId, p)) }
  }

  #isOwn(v: SignedVote): boolean {
    const s = this.#world.crypto.verifier(this.#world.chainId).voteSigner(v)
    return s !== null && hashKey(s) === hashKey(this.address)
  }

  #isOwnProposal(p: SignedProposal): boolean {
    const s = this.#world.crypto.verifier(this.#world.chainId).proposalSigner(p)
    return s !== null && hashKey(s) === hashKey(this.address)
  }
}
