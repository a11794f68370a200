// Over 600 lines, for now: the driver, catch-up and WAL replay still live in one class around the
// state machine. Issue 49 splits it as CometBFT does (driver, reactor/catch-up, WAL replay); the
// proposal checks and commits already go through the chain's verifier and committer.
/**
 * The BFT engine: the driver around one {@link BftStateMachine} in a node (the simulator's
 * `SimNode` is its model). It feeds the machine — messages from the consensus topic, timeouts from
 * the injected scheduler, the validity of a proposal (executed once, here, into an
 * `ExecutedBlock`) — and carries out what the machine decides:
 *
 * - `broadcastProposal` / `broadcastVote`: signed through the {@link ValidatorSigner} (its signer
 *   state records the signature durably first, and refuses a conflicting one), published, and
 *   handed back to the machine;
 * - `scheduleTimeout`: a timer on the scheduler (with empty blocks off, the wait after a commit
 *   lasts until the pool holds a transaction);
 * - `buildBlock`: a block on the last committed one, from the pool, its header's extra data the
 *   round and the parent's commit certificate (`extra-data.ts`);
 * - `validateBlock`: the chain's verifier (`chain.verifier`: the front door's bad-block cache and
 *   policies, the generic and the BFT header rules, then execution): the executed block is kept by
 *   hash;
 * - `commit`: the kept executed block is committed without re-execution (`chain.committer`), then
 *   `chain.setFinalized(hash, certificate)`: finalized = safe = the last committed block.
 *
 * Everything runs on one queue, in order: an event's actions are carried out (and the events they
 * give back handled) before the next event. Catch-up: a node that sees a message of a height it
 * passed answers with `commit` messages (block + certificate) from its store; a node that stalls
 * re-publishes its own messages of the height and a `status`, so peers that lost them (a
 * partition) catch up, and the rounds of a halted network resume once enough validators return.
 */
import {
  BlockError,
  BlockErrorCode,
  type BlockReader,
  type BuildHeader,
  type BuildResult,
  type Chain,
  type ChainEngine,
  ChainErrorCode,
  decodeBlock,
  type EndBlockContext,
  type EndBlockResult,
  type EngineData,
  type ExecutedBlock,
  encodeBlock,
  type HeaderContext,
  type ImportResult,
  type ParentBlock,
  type ValidatorUpdate,
  type VerifyResult,
} from '@cairn/chain'
import { keccak256 } from '@cairn/crypto'
import { type ChainFollower, followChain, type TxPool } from '@cairn/txpool'
import { bytesToHex, CairnError, equalsBytes, type Logger } from '@cairn/utils'
import type { Block, BlockBytes, BlockHeader } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import type { Engine } from '../engine.ts'
import { ConsensusErrorCode } from '../errors.ts'
import type { BftConfig } from './bft-config.ts'
import type { BftMetrics } from './bft-metrics.ts'
import { bftChainRules } from './bft-rules.ts'
import { type CommitCertificate, decodeCertificate, encodeCertificate } from './certificate.ts'
import type { BftAction, BftEvent } from './events.ts'
import { type DuplicateVoteEvidence, decodeEvidence, EvidencePool, encodeEvidence } from './evidence.ts'
import { decodeEvidenceList, encodeEvidenceList } from './evidence-pool.ts'
import { bftExtraEvidence, decodeBftExtra, encodeBftExtra, MAX_BLOCK_EVIDENCE } from './extra-data.ts'
import {
  type Address,
  hashKey,
  MsgType,
  type Proposal,
  type SignedProposal,
  type SignedVote,
  type Vote,
} from './messages.ts'
import type { SignerState } from './signer-state.ts'
import { createVerifier } from './signing.ts'
import { BftStateMachine, type BftStateSnapshot } from './state-machine.ts'
import type { Timeout } from './timeouts.ts'
import {
  decodeScheduleRecord,
  decodeValidatorChanges,
  encodeScheduleRecord,
  encodeValidatorChanges,
  type ValidatorChange,
  ValidatorSchedule,
} from './validator-schedule.ts'
import type { ValidatorSet } from './validator-set.ts'
import { ValidatorSigner } from './validator-signer.ts'
import type { ConsensusWal } from './wal.ts'
import { decodeWire, encodeWire, type WireMessage } from './wire.ts'

/**
 * Where validator-set changes come from until staking exists: called in every block's `endBlock`
 * (producing and importing alike, so it must be deterministic: a function of the block and its
 * state). The updates of block H take effect at H+2. Tests pass one; a node passes none (the set
 * stays the genesis set) unless the genesis schedules changes (`config.cairn.bft.validatorChanges`).
 */
export type ValidatorUpdateSource = (
  ctx: EndBlockContext,
) => readonly ValidatorUpdate[] | undefined | Promise<readonly ValidatorUpdate[] | undefined>

/** The engine-data keys (`chain.engineData`: the chain store's meta bucket) the engine keeps the schedule under. */
const SCHEDULE_KEY = 'bft/validator-schedule'
const UPDATES_KEY = (hash: Uint8Array) => `bft/validator-updates/${bytesToHex(hash)}`
/** The engine-data key of the pending evidence (an `encodeEvidenceList` of the pool's pending pieces). */
export const PENDING_EVIDENCE_KEY = 'bft/evidence/pending'

/** Where consensus messages go and come from: p2p's `ConsensusGossip`, or a test network. */
export interface BftTransport {
  publish(data: Uint8Array): Promise<void> | void
  setHandler(handler: ((data: Uint8Array, from: string) => Promise<'accept' | 'ignore' | 'reject'>) | null): void
}

/** Timers and the time, injected (tests run a manual clock). */
export interface BftScheduler {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(fn: () => void, delayMs: number): void
}

const realScheduler: BftScheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    setTimeout(fn, ms).unref?.()
  },
}

export interface BftEngineOptions {
  chainId: bigint
  config: BftConfig
  /** The validator key; absent: a follower (verifies and follows commits, never votes). */
  privateKey?: Uint8Array
  /** How often a stalled node re-publishes its messages (ms). Default: half the propose timeout, at least 200. */
  gossipMs?: number
  /** How far in the future a proposal's timestamp may be, beyond its parent's + 1 (s). Default 15. */
  maxFutureSeconds?: number
}

export interface BftEngineModules {
  logger: Logger
  /** Required with a private key: the double-sign protection (`FileSignerState` in a node). */
  signerState?: SignerState
  scheduler?: BftScheduler
  /** Given here or later with {@link BftEngine.connect}. */
  transport?: BftTransport
  /** Height, round, step, commits, rounds per height, missed signatures, evidence (`createBftMetrics`). */
  metrics?: BftMetrics | null
  /**
   * The consensus WAL (`ConsensusWal.open` in a node): every event is logged before the machine
   * handles it, own signed messages with fsync before they leave; a restart replays the height.
   */
  wal?: ConsensusWal
  /** Validator-set changes from `endBlock` (see {@link ValidatorUpdateSource}); absent: the genesis set forever. */
  validatorUpdates?: ValidatorUpdateSource
}

/** A commit a peer sent ahead of this node's height, kept until the height comes. */
interface PendingCommit {
  block: Uint8Array
  certificate: CommitCertificate
}

/** Commits kept ahead of the current height, at most. */
const MAX_SYNC_AHEAD = 64
/** Driver steps queued past which messages from the network are ignored. */
const MAX_QUEUED = 10_000

export class BftEngine implements Engine {
  readonly name = 'bft'
  readonly validators: ValidatorSchedule
  /** Duplicate-vote evidence: the machine's, peers' (gossiped) and blocks'; pending goes into the next proposal. */
  readonly evidence: EvidencePool
  readonly #opts: BftEngineOptions
  readonly #m: BftEngineModules
  readonly #rules: ChainEngine
  readonly #signer: ValidatorSigner | null
  readonly #scheduler: BftScheduler
  readonly #verifier: ReturnType<typeof createVerifier>
  #transport: BftTransport | undefined
  #attached: { chain: Chain; pool: TxPool; follower: ChainFollower } | undefined
  #ownFollower: ChainFollower | undefined
  #machine: BftStateMachine | null = null
  #running = false
  /** Bumped by stop(): timers of an earlier run do nothing. */
  #epoch = 0
  #queue: Promise<void> = Promise.resolve()
  /** Steps queued or running. */
  #pending = 0
  /** Executed blocks of the current height (built or validated), by hash. */
  #executed = new Map<string, ExecutedBlock>()
  #decoded = new WeakMap<Uint8Array, Block | null>()
  #lastCommitted!: Block
  #lastCertificate: CommitCertificate | null = null
  #committing: Uint8Array | undefined
  /** This node's signed messages of the current height (re-published when stalled). */
  #own: WireMessage[] = []
  /** Prevotes of the current height by `round/hash`, to relay a proof-of-lock (as the simulator's driver). */
  #prevotesSeen = new Map<string, SignedVote[]>()
  /** Proposals of the current height by round, to relay the round's proposal. */
  #proposalsSeen = new Map<number, SignedProposal>()
  #sync = new Map<number, PendingCommit>()
  /** When this node started deciding the current height (ms), for `cairn_bft_commit_seconds`. */
  #heightStartedAt: number | undefined
  #heightStartedFor: number | undefined
  /** When this node entered the current round (ms), by `height/round`, for the latency histograms. */
  #roundStartedAt: number | undefined
  #roundStartedFor = ''
  /** When this node first entered a round of a height (ms), by height: where the block time counts from. */
  #proposingSince: { height: number; at: number } | undefined
  /** `kind/signer/round` already measured (the first copy only), by height (the current and the next). */
  #latencySeen = new Map<number, Set<string>>()
  /** Events already logged (own signed messages, with fsync before they left). */
  #logged = new WeakSet<BftEvent>()
  /** While replaying the WAL: own messages and built blocks it holds, by `kind/height/round/type`. */
  #replayed: Set<string> | null = null
  #lastHelp = new Map<number, number>()
  #lastStatusAt = 0
  #lastGossipAt = ''
  #nonce = 0
  #unsubscribe: (() => void) | undefined
  /** The validator updates `endBlock` returned, by block hash (recent; the chain store keeps them too). */
  #updates = new Map<string, ValidatorChange[]>()
  /** The updates records of canonical blocks up to this height are pruned (see `#pruneUpdates`). */
  #updatesPrunedTo = 0
  /** The pending evidence changed since it was last written to the chain store. */
  #evidenceDirty = false
  #evidenceWrite: Promise<unknown> = Promise.resolve()

  constructor(opts: BftEngineOptions, modules: BftEngineModules) {
    this.#opts = opts
    this.#m = modules
    this.#scheduler = modules.scheduler ?? realScheduler
    // Signers are recovered once per message object: at the edge (to refuse what no validator
    // signed) and again by the machine.
    const plain = createVerifier(opts.chainId)
    const votes = new WeakMap<SignedVote, Address | null>()
    const proposals = new WeakMap<SignedProposal, Address | null>()
    this.#verifier = {
      voteSigner: (v) => {
        const known = votes.get(v)
        if (known !== undefined) return known
        const a = plain.voteSigner(v)
        votes.set(v, a)
        return a
      },
      proposalSigner: (p) => {
        const known = proposals.get(p)
        if (known !== undefined) return known
        const a = plain.proposalSigner(p)
        proposals.set(p, a)
        return a
      },
    }
    this.#transport = modules.transport
    this.validators = new ValidatorSchedule(opts.config.validators, opts.config.validatorChanges)
    this.evidence = new EvidencePool({ chainId: opts.chainId }, { validatorSetAt: (h) => this.validators.at(h) })
    this.#rules = bftChainRules({
      chainId: opts.chainId,
      validators: this.validators,
      committing: () => this.#committing,
      evidence: this.evidence,
      parentValidatorChanges: (parent, ctx) => this.#updatesOf(parent, ctx.chain),
      onScheduleChange: () => this.#saveSchedule(),
    })
    if (opts.privateKey !== undefined) {
      if (modules.signerState === undefined) {
        throw new CairnError(ConsensusErrorCode.NOT_ATTACHED, 'a BFT validator needs a signer state', {
          hint: 'pass modules.signerState (FileSignerState in a node)',
        })
      }
      this.#signer = new ValidatorSigner(
        { chainId: opts.chainId, privateKey: opts.privateKey },
        { state: modules.signerState },
      )
    } else {
      this.#signer = null
    }
  }

  // ---- the chain's rules ----

  validateHeader(header: BlockHeader, parent: BlockHeader, ctx: HeaderContext): Promise<void> {
    return this.#rules.validateHeader(header, parent, ctx)
  }

  preferHead(candidate: BlockHeader, current: BlockHeader): Promise<boolean> {
    return this.#rules.preferHead(candidate, current)
  }

  /** The parent's commit certificate a checked header carries: the importer stores it for the parent. */
  parentFinality(header: BlockHeader): Uint8Array | undefined {
    return this.#rules.parentFinality?.(header)
  }

  /**
   * The block's validator-set updates (`modules.validatorUpdates`), in effect at its height + 2.
   * Updates that do not apply to the next height's set (a removal of a non-member, an empty set, a
   * repeated address) make the block invalid. Kept by block hash: the next block must carry them.
   */
  async endBlock(ctx: EndBlockContext): Promise<EndBlockResult | undefined> {
    const source = this.#m.validatorUpdates
    if (source === undefined) return undefined
    const updates = await source(ctx)
    if (updates === undefined || updates.length === 0) return undefined
    const changes = updates.map((u) => ({ address: u.address, votingPower: u.power }))
    const height = Number(ctx.header.number)
    this.validators.at(height + 1).update(changes)
    if ('hash' in ctx.header) await this.#keepUpdates(ctx.header.hash(), changes)
    return { validatorUpdates: updates.map((u) => ({ address: u.address, power: u.power })) }
  }

  /**
   * The validator updates the block of `header` returned from `endBlock` (none: empty). The record
   * of a canonical block whose child is final is pruned ({@link #pruneUpdates}); the child's header
   * carries them (checked against the record when it was imported), so they are read from there.
   */
  async #updatesOf(
    header: BlockHeader,
    blocks: BlockReader | undefined = this.#attached?.chain,
  ): Promise<ValidatorChange[]> {
    const hash = header.hash()
    const known = this.#updates.get(hashKey(hash))
    if (known !== undefined) return known
    if (blocks === undefined) return []
    const data = this.#attached?.chain.engineData
    const bytes = await data?.get(UPDATES_KEY(hash))
    if (bytes !== undefined) return decodeValidatorChanges(bytes)
    if (header.number > BigInt(this.#updatesPrunedTo)) return []
    const canonical = await blocks.getCanonicalHash(header.number)
    const child = await blocks.getCanonicalHash(header.number + 1n)
    if (canonical === undefined || !equalsBytes(canonical, hash) || child === undefined) return []
    const childHeader = await blocks.getHeader(child)
    try {
      return childHeader === undefined ? [] : (decodeBftExtra(childHeader.extraData).validatorChanges ?? [])
    } catch {
      return []
    }
  }

  /**
   * Prunes the updates records of the canonical blocks up to `finalized − 1`: each one's child is
   * final, so its updates are in a final header and in the schedule (recorded and saved when that
   * header was read, before this runs). Kept: the records of the last final block (its updates are
   * in no header yet: the next block carries them) and of the blocks above it. The blocks with a
   * record are those whose updates take effect two heights later (the schedule knows which).
   */
  async #pruneUpdates(finalized: number): Promise<void> {
    const to = finalized - 1
    if (to <= this.#updatesPrunedTo) return
    const chain = this.#chain
    for (let h = this.#updatesPrunedTo + 1; h <= to; h++) {
      if (this.validators.changesAt(h + 2) === undefined) continue
      const hash = await chain.getCanonicalHash(BigInt(h))
      if (hash === undefined) continue
      this.#updates.delete(hashKey(hash))
      await chain.engineData.del(UPDATES_KEY(hash))
    }
    this.#updatesPrunedTo = to
  }

  /** Keeps a block's validator updates (memory and the chain store) before the block is stored. */
  async #keepUpdates(hash: Uint8Array, changes: ValidatorChange[]): Promise<void> {
    this.#updates.set(hashKey(hash), changes)
    if (this.#updates.size > 64) this.#updates.delete(this.#updates.keys().next().value as string)
    await this.#attached?.chain.engineData.put(UPDATES_KEY(hash), encodeValidatorChanges(changes))
  }

  /** Persists the schedule (the changes by height of effect and how far the headers were read). */
  async #saveSchedule(data: EngineData | undefined = this.#attached?.chain.engineData): Promise<void> {
    await data?.put(SCHEDULE_KEY, encodeScheduleRecord(this.validators.toRecord()))
  }

  /**
   * The schedule back from the chain: the persisted record, then the headers above where it was
   * read to (each carries its parent's updates), up to the head.
   */
  async #restoreSchedule(): Promise<void> {
    const chain = this.#chain
    const bytes = await chain.engineData.get(SCHEDULE_KEY)
    if (bytes !== undefined) {
      const record = decodeScheduleRecord(bytes)
      for (const [h, cs] of [...record.changes.entries()].sort((a, b) => a[0] - b[0])) this.validators.record(h, cs)
      this.validators.markScanned(record.scannedTo)
    }
    const head = Number(chain.head.header.number)
    let changed = false
    for (let h = Math.max(2, this.validators.scannedTo + 1); h <= head; h++) {
      const hash = await chain.getCanonicalHash(BigInt(h))
      const header = hash === undefined ? undefined : await chain.getHeader(hash)
      if (header === undefined) break
      changed = this.#recordHeader(header) || changed
    }
    this.validators.markScanned(head)
    if (changed || bytes === undefined) await this.#saveSchedule()
  }

  /** Records the validator changes a header carries into the schedule; true when new. */
  #recordHeader(header: BlockHeader): boolean {
    let changes: ValidatorChange[]
    try {
      changes = decodeBftExtra(header.extraData).validatorChanges ?? []
    } catch {
      return false
    }
    return this.validators.recordHeader(Number(header.number), changes)
  }

  // ---- the Engine seam ----

  /** This validator's address, or null for a follower. */
  get address(): Address | null {
    return this.#signer?.address ?? null
  }

  /** Where the machine is (height, round, step, lock), or null before start. */
  snapshot(): BftStateSnapshot | null {
    return this.#machine?.snapshot() ?? null
  }

  /** The validator set of `height` (≥ 1). */
  validatorsAt(height: number): ValidatorSet {
    return this.validators.at(height)
  }

  attach(modules: { chain: Chain; pool: TxPool; follower?: ChainFollower }): void {
    this.#ownFollower?.stop()
    this.#ownFollower = modules.follower ? undefined : followChain(modules.pool, modules.chain.events, this.#m)
    const follower = modules.follower ?? (this.#ownFollower as ChainFollower)
    this.#attached = { chain: modules.chain, pool: modules.pool, follower }
  }

  /** The consensus topic (p2p starts after the engine is built). */
  connect(transport: BftTransport): void {
    this.#transport?.setHandler(null)
    this.#transport = transport
    if (this.#running) transport.setHandler((data, from) => this.#onMessage(data, from))
  }

  get #chain(): Chain {
    if (!this.#attached) {
      throw new CairnError(ConsensusErrorCode.NOT_ATTACHED, 'the engine was not attached to a chain and a pool', {
        hint: 'call engine.attach({ chain, pool }) after opening the chain with the engine',
      })
    }
    return this.#attached.chain
  }

  async start(): Promise<void> {
    if (this.#running) return
    const chain = this.#chain
    this.#running = true
    const epoch = ++this.#epoch
    // The machine decides the height after the last final block (a validator finalizes every commit).
    const finalized = await chain.checkpoint('finalized')
    this.#lastCommitted = finalized
    this.#lastCertificate = await this.#storedCertificate(finalized)
    const height = Number(finalized.header.number) + 1
    await this.#restoreSchedule()
    await this.#pruneUpdates(height - 1)
    await this.#restoreCommittedEvidence(height - 1)
    await this.#restorePendingEvidence(height)
    this.#machine = this.#newMachine(height)
    // A block imported from a peer proves its parent final: follow finality from the chain alone.
    const onHead = ({ block }: { block: Block }) =>
      this.#enqueue(async () => {
        if (this.#recordHeader(block.header)) await this.#saveSchedule()
        this.#markEvidence(block.header)
        await this.#savePendingEvidence()
        await this.#finalizeParentOf(block)
      })
    chain.events.on('newHead', onHead)
    this.#unsubscribe = () => chain.events.off('newHead', onHead)
    this.#transport?.setHandler((data, from) => this.#onMessage(data, from))
    const machine = this.#machine
    const wal = this.#m.wal
    this.#enqueue(async () => {
      if (wal === undefined) return this.#run(machine.start())
      // Back where the height was: the logged events into the fresh machine, not logged again. Own
      // messages and built blocks found in the log are not signed or built again (their records
      // hand them to the machine: the signer state only moves forward).
      wal.truncateBelow(height)
      const events = wal.replay(height)
      this.#replayed = new Set(events.flatMap((e) => this.#replayKeys(e)))
      try {
        const work = machine.start()
        for (const e of events) {
          await this.#run(work.splice(0))
          if (e.kind === 'vote' && this.#isOwn(e.vote)) this.#own.push({ kind: 'vote', vote: e.vote })
          if (e.kind === 'proposal' && this.#isOwnProposal(e.proposal)) {
            this.#own.push({ kind: 'proposal', proposal: e.proposal })
          }
          work.push(...machine.handle(e))
        }
        await this.#run(work)
      } finally {
        this.#replayed = null
      }
      if (events.length > 0) {
        this.#m.logger.info({ height, events: events.length }, 'consensus WAL replayed')
        for (const msg of this.#own) this.#publish(msg)
      }
    })
    this.#scheduleGossip(epoch)
    this.#m.logger.info(
      {
        height,
        validator: this.address ? bytesToHex(this.address) : null,
        validators: this.validators.at(height).size,
      },
      'bft engine started',
    )
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#epoch++
    this.#transport?.setHandler(null)
    this.#unsubscribe?.()
    await this.#queue
    await this.#saveSchedule().catch((err: unknown) =>
      this.#m.logger.warn({ err }, 'cannot save the validator schedule'),
    )
    this.#m.wal?.close()
    this.#machine = null
    this.#executed.clear()
    this.#ownFollower?.stop()
  }

  /** The header fields of a block built on `parent` now (estimates and `pending` use them too). */
  nextBlockEnv(parent: Block): BuildHeader {
    const now = BigInt(Math.floor(this.#scheduler.now() / 1000))
    const timestamp = now > parent.header.timestamp ? now : parent.header.timestamp + 1n
    return {
      timestamp,
      coinbase: this.address ?? new Uint8Array(20),
      mixHash: keccak256(parent.hash()),
    }
  }

  /** Builds a round-0 block on `parent` from the pool (not committed: it waits for votes). */
  async propose(parent: ParentBlock, round = 0): Promise<BuildResult> {
    const { chain, pool } = this.#attached ?? { chain: this.#chain, pool: undefined as never }
    const parentBlock = 'writes' in parent ? parent.block : parent
    const env = this.nextBlockEnv(parentBlock)
    const certificate =
      this.#lastCommitted !== undefined && equalsBytes(parentBlock.hash(), this.#lastCommitted.hash())
        ? this.#lastCertificate
        : await this.#storedCertificate(parentBlock)
    // The parent's validator-set updates ride in this block (in effect at its height + 1).
    const validatorChanges = parentBlock.header.number === 0n ? [] : await this.#updatesOf(parentBlock.header)
    const extraData = encodeBftExtra({
      round,
      parentCertificate: parentBlock.header.number === 0n ? null : certificate,
      evidence: this.#blockEvidence(Number(parentBlock.header.number) + 1),
      validatorChanges,
    })
    const source = await pool.blockSource(parentBlock.header.calcNextBaseFee())
    if (this.validators.recordHeader(Number(parentBlock.header.number) + 1, validatorChanges)) {
      await this.#saveSchedule()
    }
    const built = await chain.build(parent, { ...env, extraData }, source)
    if (built.rejected.length > 0) pool.discard(built.rejected.map((r) => r.tx))
    const updates = built.endBlock?.validatorUpdates ?? []
    if (updates.length > 0) {
      await this.#keepUpdates(
        built.block.hash(),
        updates.map((u) => ({ address: u.address, votingPower: u.power })),
      )
    }
    return built
  }

  /**
   * The pending evidence a block of `height` carries (the oldest first, at most
   * `MAX_BLOCK_EVIDENCE`): only pieces every importer accepts at that height.
   */
  #blockEvidence(height: number): Uint8Array {
    const list: DuplicateVoteEvidence[] = []
    for (const ev of this.evidence.pending()) {
      if (list.length >= MAX_BLOCK_EVIDENCE) break
      try {
        this.evidence.check(ev, height)
        list.push(ev)
      } catch {
        // For a later height (kept for then) or aged out (pruned at a commit).
      }
    }
    return list.length === 0 ? new Uint8Array() : encodeEvidenceList(list)
  }

  /**
   * The pool's memory of committed evidence, back from the chain after a restart: the headers of
   * the evidence age window below `top` (evidence older than that is refused anyway), so a
   * restarted node neither accepts nor proposes again what a block already carries.
   */
  async #restoreCommittedEvidence(top: number): Promise<void> {
    const chain = this.#chain
    for (let h = Math.max(1, top - this.evidence.maxAgeHeights); h <= top; h++) {
      const hash = await chain.getCanonicalHash(BigInt(h))
      const header = hash === undefined ? undefined : await chain.getHeader(hash)
      if (header !== undefined) this.#markEvidence(header, false)
    }
  }

  /** The evidence of a committed (or imported) block leaves the pending list and is not taken again. */
  #markEvidence(header: BlockHeader, log = true): void {
    let list: DuplicateVoteEvidence[]
    try {
      const extra = decodeBftExtra(header.extraData)
      if (extra.evidence === undefined) return
      list = bftExtraEvidence(extra, this.#opts.chainId)
    } catch {
      return
    }
    list = list.filter((ev) => !this.evidence.isCommitted(ev))
    if (list.length === 0) return
    this.evidence.markCommitted(list, Number(header.number))
    this.#evidenceDirty = true
    if (log) this.#m.logger.info({ height: Number(header.number), evidence: list.length }, 'evidence committed')
  }

  /**
   * Writes the pool's pending evidence to the chain store (`PENDING_EVIDENCE_KEY`) when it changed:
   * before a new piece is gossiped or accepted from a peer, and after a block commits some. A
   * LevelDB write survives the process being killed; the evidence is in no block yet, so a node
   * restarted before one carries it still proposes it and gossips it.
   */
  async #savePendingEvidence(): Promise<void> {
    if (!this.#evidenceDirty) return
    const data = this.#attached?.chain.engineData
    if (data === undefined) return
    this.#evidenceDirty = false
    const pending = this.evidence.pending()
    // One write at a time, in order (a peer's evidence is saved outside the engine's queue).
    const write = this.#evidenceWrite.then(() =>
      pending.length === 0
        ? data.del(PENDING_EVIDENCE_KEY)
        : data.put(PENDING_EVIDENCE_KEY, encodeEvidenceList(pending)),
    )
    this.#evidenceWrite = write.catch(() => {})
    await write
  }

  /**
   * The pending evidence back from the chain store at start (after the committed evidence): what a
   * block committed since, or what aged out below `height − maxAgeHeights`, is dropped; the rest is
   * verified again (`submit` at `height`) and pooled, to be proposed and gossiped.
   */
  async #restorePendingEvidence(height: number): Promise<void> {
    const bytes = await this.#chain.engineData.get(PENDING_EVIDENCE_KEY)
    if (bytes === undefined) return
    let list: DuplicateVoteEvidence[]
    try {
      list = decodeEvidenceList(bytes, this.#opts.chainId, Number.MAX_SAFE_INTEGER)
    } catch (err) {
      this.#m.logger.warn({ err }, 'the stored pending evidence does not decode; dropped')
      this.#evidenceDirty = true
      await this.#savePendingEvidence()
      return
    }
    let restored = 0
    for (const ev of list) {
      if (this.evidence.isCommitted(ev) || ev.voteA.height < height - this.evidence.maxAgeHeights) continue
      try {
        if (this.evidence.submit(ev, height) === 'added') restored++
      } catch (err) {
        this.#m.logger.warn({ err, height: ev.voteA.height }, 'stored pending evidence no longer verifies; dropped')
      }
    }
    if (restored !== list.length) {
      this.#evidenceDirty = true
      await this.#savePendingEvidence()
    }
    if (restored > 0) this.#m.logger.info({ evidence: restored }, 'pending evidence restored')
  }

  /** Imports an executed block without executing it again (the BFT commit path uses this). */
  async commit(proposal: ExecutedBlock, finality?: Uint8Array): Promise<ImportResult> {
    const { chain, follower } = this.#attached ?? { chain: this.#chain, follower: undefined as never }
    const result = await chain.committer.commit(proposal, { senderOverrides: false, ...(finality ? { finality } : {}) })
    await follower.settled()
    return result
  }

  /** True when the driver has nothing queued or running. */
  get quiet(): boolean {
    return this.#pending === 0
  }

  /** Resolves once the driver has nothing queued (tests settle a manual clock's turn with it). */
  async idle(): Promise<void> {
    for (;;) {
      const q = this.#queue
      await q
      if (q === this.#queue) return
    }
  }

  // ---- the driver ----

  #enqueue(fn: () => Promise<void>): void {
    this.#pending++
    this.#queue = this.#queue
      .then(fn)
      .catch((err: unknown) => {
        this.#m.logger.error({ err }, 'bft driver step failed')
      })
      .finally(() => {
        this.#pending--
      })
  }

  /** Carries out `actions` and handles the events they give back, then commits kept for the new height. */
  async #run(actions: BftAction[]): Promise<void> {
    const machine = this.#machine
    if (machine === null) return
    const work = [...actions]
    for (;;) {
      while (work.length > 0) {
        const action = work.shift() as BftAction
        for (const event of await this.#act(action)) work.push(...this.#feed(machine, event))
      }
      const pending = this.#sync.get(machine.height)
      if (pending === undefined) {
        this.#observe(machine)
        return
      }
      this.#sync.delete(machine.height)
      work.push(...this.#feed(machine, { kind: 'certificate', certificate: pending.certificate, block: pending.block }))
    }
  }

  /** The machine's position in the metrics; the start of a height's clock. */
  #observe(machine: BftStateMachine): void {
    const metrics = this.#m.metrics
    if (this.#heightStartedAt === undefined || this.#heightStartedFor !== machine.height) {
      this.#heightStartedFor = machine.height
      this.#heightStartedAt = this.#scheduler.now()
      for (const h of this.#latencySeen.keys()) if (h < machine.height) this.#latencySeen.delete(h)
    }
    // A round starts with its propose step (step 0 is the wait after the last commit).
    const round = `${machine.height}/${machine.round}`
    if (machine.step !== 0 && this.#roundStartedFor !== round) {
      this.#roundStartedFor = round
      this.#roundStartedAt = this.#scheduler.now()
      if (this.#proposingSince?.height !== machine.height) {
        this.#proposingSince = { height: machine.height, at: this.#roundStartedAt }
      }
    }
    if (!metrics) return
    metrics.height.set(machine.height)
    metrics.round.set(machine.round)
    metrics.step.set(machine.step)
  }

  /** Logs `event` (unless logged already, or one the machine drops), then hands it to the machine. */
  #feed(machine: BftStateMachine, event: BftEvent): BftAction[] {
    const wal = this.#m.wal
    if (wal !== undefined && this.#replayed === null && !this.#logged.has(event) && machine.accepts(event)) {
      wal.append(event)
    }
    return machine.handle(event)
  }

  #handle(event: BftEvent): void {
    this.#enqueue(async () => {
      if (this.#machine === null) return
      await this.#run(this.#feed(this.#machine, event))
    })
  }

  async #act(a: BftAction): Promise<BftEvent[]> {
    switch (a.kind) {
      case 'broadcastProposal':
        return this.#sendProposal(a.proposal)
      case 'broadcastVote':
        return this.#sendVote(a.vote)
      case 'scheduleTimeout':
        this.#scheduleTimeout(a.timeout, a.delayMs)
        return []
      case 'buildBlock':
        return this.#build(a.height, a.round)
      case 'validateBlock':
        return this.#validate(a.height, a.blockHash, a.block)
      case 'commit':
        await this.#commit(a.height, a.blockHash, a.block, a.certificate)
        return []
      case 'evidence':
        if (this.evidence.add(a.evidence)) {
          // Durable before it leaves: a restart before a block carries it still proposes it.
          this.#evidenceDirty = true
          await this.#savePendingEvidence()
          this.#publish({ kind: 'evidence', evidence: encodeEvidence(a.evidence) })
          this.#m.logger.warn(
            {
              validator: bytesToHex(a.evidence.validator),
              height: a.evidence.voteA.height,
              round: a.evidence.voteA.round,
            },
            'duplicate vote evidence',
          )
          this.#m.metrics?.evidence.inc()
        }
        return []
    }
  }

  #sendVote(vote: Vote): BftEvent[] {
    if (this.#signer === null) return []
    if (this.#replayed?.has(`vote/${vote.height}/${vote.round}/${vote.type}`)) return []
    const signed = this.#signer.signVote(vote)
    if ('refused' in signed) {
      this.#m.logger.warn({ reason: signed.refused }, 'signer state refused a vote')
      this.#m.metrics?.refusedSignatures.inc()
      return []
    }
    const event: BftEvent = { kind: 'vote', vote: signed }
    this.#logSync(event)
    const msg: WireMessage = { kind: 'vote', vote: signed }
    this.#own.push(msg)
    this.#publish(msg)
    return [event]
  }

  #sendProposal(proposal: Proposal): BftEvent[] {
    if (this.#signer === null) return []
    if (this.#replayed?.has(`proposal/${proposal.height}/${proposal.round}`)) return []
    const signed = this.#signer.signProposal(proposal)
    if ('refused' in signed) {
      this.#m.logger.warn({ reason: signed.refused }, 'signer state refused a proposal')
      this.#m.metrics?.refusedSignatures.inc()
      return []
    }
    const event: BftEvent = { kind: 'proposal', proposal: signed }
    this.#logSync(event)
    const msg: WireMessage = { kind: 'proposal', proposal: signed }
    this.#own.push(msg)
    this.#publish(msg)
    return [event]
  }

  /** An own signed message goes into the WAL with fsync before it leaves the node. */
  #logSync(event: BftEvent): void {
    if (this.#m.wal === undefined) return
    this.#m.wal.append(event, { sync: true })
    this.#logged.add(event)
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
    const self = this.address
    if (self === null) return false
    const signer = this.#verifier.voteSigner(vote)
    return signer !== null && equalsBytes(signer, self)
  }

  #isOwnProposal(p: SignedProposal): boolean {
    const self = this.address
    if (self === null) return false
    const signer = this.#verifier.proposalSigner(p)
    return signer !== null && equalsBytes(signer, self)
  }

  #publish(msg: WireMessage): void {
    const t = this.#transport
    if (t === undefined) return
    void Promise.resolve(t.publish(encodeWire(msg, this.#nonce++))).catch((err: unknown) =>
      this.#m.logger.debug({ err }, 'consensus publish failed'),
    )
  }

  #scheduleTimeout(timeout: Timeout, ms: number): void {
    // The block time is an interval: the wait after a commit is what is left of it since the
    // committed height's first round began (proposing, executing and voting took the rest), so
    // heights start `blockTimeMs` apart while the network keeps up, and at once when it does not.
    const since = this.#proposingSince
    if (timeout.step === 'commit' && since?.height === timeout.height - 1) {
      ms = Math.max(0, ms - (this.#scheduler.now() - since.at))
    }
    const epoch = this.#epoch
    const fire = () => {
      if (epoch !== this.#epoch) return
      // No empty blocks: the wait after a commit lasts until a transaction is pending.
      if (timeout.step === 'commit' && !this.#opts.config.emptyBlocks && this.#attached?.pool.counts.pending === 0) {
        this.#scheduler.setTimeout(fire, 100)
        return
      }
      this.#handle({ kind: 'timeout', timeout })
    }
    this.#scheduler.setTimeout(fire, ms)
  }

  #decode(bytes: Uint8Array): Block | null {
    let block = this.#decoded.get(bytes)
    if (block === undefined) {
      try {
        // The transactions this node pooled (fetched and decoded already) are taken as they are.
        const pool = this.#attached?.pool
        block = decodeBlock(
          RLP.decode(bytes) as unknown as BlockBytes,
          this.#chain.commons,
          pool && ((hash) => pool.get(hash)),
        )
      } catch {
        block = null
      }
      this.#decoded.set(bytes, block)
    }
    return block
  }

  async #build(height: number, round: number): Promise<BftEvent[]> {
    if (this.#replayed?.has(`build/${height}/${round}`)) return []
    const parent = this.#lastCommitted
    if (Number(parent.header.number) + 1 !== height) return []
    const built = await this.propose(parent, round)
    const bytes = encodeBlock(built.block)
    this.#decoded.set(bytes, built.block)
    const hash = built.block.hash()
    this.#executed.set(hashKey(hash), built)
    return [{ kind: 'proposalBlock', height, round, blockHash: hash, block: bytes }]
  }

  async #validate(height: number, blockHash: Uint8Array, bytes: Uint8Array): Promise<BftEvent[]> {
    const answer = (valid: boolean): BftEvent[] => [{ kind: 'validity', height, blockHash, valid }]
    if (this.#executed.has(hashKey(blockHash))) return answer(true)
    const r = await this.#verify(height, blockHash, bytes, this.#lastCommitted, true)
    if (!r.ok) return answer(false)
    this.#executed.set(hashKey(blockHash), r.executed)
    return answer(true)
  }

  /**
   * The block of `height` in `bytes`, checked and executed on `parent` by the chain's verifier (the
   * front door's bad-block cache and policies: a block known bad is refused without executing it).
   * `proposal`: a proposal is held to the clock (not a block already committed by the validators).
   */
  async #verify(
    height: number,
    blockHash: Uint8Array,
    bytes: Uint8Array,
    parent: Block,
    proposal: boolean,
  ): Promise<VerifyResult> {
    const block = this.#decode(bytes)
    if (block === null || block.header.number !== BigInt(height)) {
      const why = block === null ? 'does not decode' : `is not of height ${height}`
      const error = new BlockError(BlockErrorCode.DECODE, `block ${bytesToHex(blockHash)} ${why}`, 'reject', true)
      return { ok: false, error }
    }
    // The proposal's transactions this node pooled keep the senders the pool recovered (the
    // costliest per-transaction check otherwise: one secp256k1 recovery each); the others (not
    // fetched yet) go to the pool's recovery workers in one request, off this thread.
    const pool = this.#attached?.pool
    const r = await this.#chain.verifier.verify(bytes, parent, {
      source: 'consensus',
      decode: () => block,
      ...(proposal
        ? { maxFutureSeconds: this.#opts.maxFutureSeconds ?? 15, now: () => this.#scheduler.now() / 1000 }
        : {}),
      ...(pool !== undefined
        ? {
            prepareSenders: async (b: Block) => {
              if (pool.seedSenders(b.transactions) < b.transactions.length) await pool.prepareSenders(b.transactions)
            },
          }
        : {}),
    })
    if (!r.ok) this.#m.logger.warn({ err: r.error, height, hash: bytesToHex(blockHash) }, 'proposed block is invalid')
    return r
  }

  async #commit(height: number, hash: Uint8Array, bytes: Uint8Array, certificate: CommitCertificate): Promise<void> {
    const chain = this.#chain
    let executed = this.#executed.get(hashKey(hash))
    const block = executed?.block ?? this.#decode(bytes)
    if (block === null || block === undefined) return
    this.#committing = hash
    try {
      // Final in the block's own batch (no second write on the way to `finalized`)...
      const finality = encodeCertificate(certificate)
      // A block this node did not validate (a commit it caught up with) is verified now, unless
      // stored already (sync may have imported it).
      if (executed === undefined && (await chain.getBlockNumber(hash)) === undefined) {
        executed = await this.#verifyCommitted(height, hash, bytes, block)
      }
      if (executed) await this.commit(executed, finality)
      // ...unless it was known already (sync may have imported it, or made it or a later block
      // final from the next block's certificate).
      if (BigInt(height) > chain.finalizedHeader.number) await chain.setFinalized(hash, finality)
    } finally {
      this.#committing = undefined
    }
    this.#lastCommitted = block
    this.#lastCertificate = certificate
    // The schedule: what this block carries (effect height + 1) and what it returned (height + 2).
    // (Both were checked before: the header on import, the updates in `endBlock`; a failure here
    // is a bug, logged, and must not stop the commit's bookkeeping.)
    try {
      let changed = this.#recordHeader(block.header)
      const own = await this.#updatesOf(block.header)
      if (own.length > 0) changed = this.validators.record(height + 2, own) || changed
      if (changed) await this.#saveSchedule()
    } catch (err) {
      this.#m.logger.error({ err, height }, 'cannot record the validator-set changes of a committed block')
    }
    // The records of this height's other executed proposals (none can become canonical now), and
    // of the parent (its updates are in this final block's header).
    for (const [key, other] of this.#executed) {
      if (key === hashKey(hash) || !this.#updates.has(key)) continue
      this.#updates.delete(key)
      await chain.engineData.del(UPDATES_KEY(other.block.hash()))
    }
    await this.#pruneUpdates(height)
    this.#markEvidence(block.header)
    const before = this.evidence.size
    this.evidence.prune(height + 1)
    if (this.evidence.size !== before) this.#evidenceDirty = true
    await this.#savePendingEvidence()
    this.#m.wal?.truncateBelow(height + 1)
    this.#executed.clear()
    this.#own = []
    this.#prevotesSeen.clear()
    this.#proposalsSeen.clear()
    for (const h of this.#sync.keys()) if (h <= height) this.#sync.delete(h)
    this.#m.logger.debug({ height, round: certificate.round, hash: bytesToHex(hash) }, 'committed')
    const metrics = this.#m.metrics
    if (metrics) {
      metrics.commits.inc()
      metrics.roundsPerHeight.observe(certificate.round + 1)
      if (this.#heightStartedAt !== undefined && this.#heightStartedFor === height) {
        metrics.commitSeconds.observe((this.#scheduler.now() - this.#heightStartedAt) / 1000)
      }
      const signed = new Set(certificate.signatures.map((sig) => sig.validatorIndex))
      this.validators.at(height).validators.forEach((v, i) => {
        if (!signed.has(i)) metrics.missedSignatures.inc({ validator: bytesToHex(v.address) })
      })
    }
  }

  /** {@link #verify} of a committed block (no clock), on its stored parent; throws when it does not verify. */
  async #verifyCommitted(height: number, hash: Uint8Array, bytes: Uint8Array, block: Block): Promise<ExecutedBlock> {
    const { parentHash } = block.header
    const parent = equalsBytes(parentHash, this.#lastCommitted.hash())
      ? this.#lastCommitted
      : await this.#chain.getBlock(parentHash)
    if (parent === undefined) {
      throw new CairnError(
        ChainErrorCode.PARENT_UNKNOWN,
        `committed block ${height} ${bytesToHex(hash)}: parent ${bytesToHex(parentHash)} is unknown`,
      )
    }
    const r = await this.#verify(height, hash, bytes, parent, false)
    if (!r.ok) throw r.error
    return r.executed
  }

  /**
   * Finality from the chain alone: a new head carries its parent's certificate (checked on import),
   * which the importer stored for the parent in the head's batch (`parentFinality`), making it final
   * — whether the engine was running or not (a range sync starts before it). The machine follows.
   */
  async #finalizeParentOf(block: Block): Promise<void> {
    const chain = this.#chain
    const finalized = chain.finalizedHeader
    if (block.header.number >= 2n && block.header.number - 1n > finalized.number) {
      // Not stored with the block (a chain opened with other rules than this engine's): push it.
      const cert = decodeBftExtra(block.header.extraData).parentCertificate
      if (cert !== null) await chain.setFinalized(block.header.parentHash, encodeCertificate(cert))
    }
    const machine = this.#machine
    if (machine !== null && chain.finalizedHeader.number >= BigInt(machine.height)) {
      await this.#followChainFinality()
    }
    await this.#pruneUpdates(Number(chain.finalizedHeader.number))
  }

  #newMachine(height: number): BftStateMachine {
    return new BftStateMachine(
      { chainId: this.#opts.chainId, self: this.address, height, timeouts: this.#opts.config.timeouts },
      {
        validatorSetAt: (h) => this.validators.at(h),
        verifier: this.#verifier,
        blockHash: (bytes) => this.#decode(bytes)?.hash() ?? null,
      },
    )
  }

  /**
   * The chain's finality overtook the machine (blocks imported by sync prove their parents final):
   * a fresh machine at the height after the final block. What it held of the passed heights is moot.
   */
  async #followChainFinality(): Promise<void> {
    const machine = this.#machine
    if (machine === null || this.#replayed !== null) return
    const finalized = await this.#chain.checkpoint('finalized')
    if (Number(finalized.header.number) < machine.height) return
    const height = Number(finalized.header.number) + 1
    this.#m.logger.info({ from: machine.height, to: height }, 'bft: the chain is final past the machine; jumping')
    this.#lastCommitted = finalized
    this.#lastCertificate = await this.#storedCertificate(finalized)
    this.#executed.clear()
    this.#own = []
    this.#prevotesSeen.clear()
    this.#proposalsSeen.clear()
    for (const h of this.#sync.keys()) if (h < height) this.#sync.delete(h)
    this.#m.wal?.truncateBelow(height)
    this.#machine = this.#newMachine(height)
    await this.#run(this.#machine.start())
  }

  async #storedCertificate(block: Block): Promise<CommitCertificate | null> {
    if (block.header.number === 0n) return null
    const bytes = await this.#chain.getFinality(block.hash())
    if (bytes === undefined || bytes.length === 0) return null
    return decodeCertificate(bytes)
  }

  // ---- the network ----

  async #onMessage(data: Uint8Array, _from: string): Promise<'accept' | 'ignore' | 'reject'> {
    let msg: WireMessage
    try {
      msg = decodeWire(data)
    } catch {
      return 'reject'
    }
    const machine = this.#machine
    if (machine === null) return 'ignore'
    // A flood faster than the driver works is dropped here rather than queued without bound.
    if (this.#pending > MAX_QUEUED) return 'ignore'
    const height = machine.height
    switch (msg.kind) {
      case 'proposal':
      case 'vote': {
        const h = msg.kind === 'vote' ? msg.vote.height : msg.proposal.height
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
        const signer =
          msg.kind === 'vote' ? this.#verifier.voteSigner(msg.vote) : this.#verifier.proposalSigner(msg.proposal)
        if (signer === null || this.validators.at(h).indexOf(signer) < 0) return 'reject'
        if (h === height) this.#keep(msg)
        if (msg.kind === 'vote')
          this.#latency(msg.vote.type === MsgType.PREVOTE ? 'prevote' : 'precommit', signer, h, msg.vote.round)
        else this.#latency('proposal', signer, h, msg.proposal.round)
        this.#handle(
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
        this.#enqueue(async () => {
          const m = this.#machine
          if (m === null || h < m.height) return
          if (h === m.height) {
            await this.#run(this.#feed(m, { kind: 'certificate', certificate: msg.certificate, block: msg.block }))
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
      ev = decodeEvidence(bytes, this.#opts.chainId)
      result = this.evidence.submit(ev, height)
    } catch (err) {
      this.#m.logger.debug({ err }, 'invalid evidence from a peer')
      return 'reject'
    }
    if (result !== 'added') return 'ignore'
    // Durable before it is accepted (gossipsub forwards it then).
    this.#evidenceDirty = true
    await this.#savePendingEvidence()
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
    const machine = this.#machine
    if (!metrics || machine === null) return
    const ahead = height > machine.height || (height === machine.height && round > machine.round)
    const current = `${height}/${round}` === this.#roundStartedFor && this.#roundStartedAt !== undefined
    if (!ahead && !current) return
    let seen = this.#latencySeen.get(height)
    if (seen === undefined) {
      seen = new Set()
      this.#latencySeen.set(height, seen)
    }
    const key = `${kind}/${hashKey(signer)}/${round}`
    if (seen.has(key) || seen.size >= 10_000) return
    seen.add(key)
    const seconds = ahead ? 0 : (this.#scheduler.now() - (this.#roundStartedAt as number)) / 1000
    if (kind === 'proposal') metrics.proposalReceiveSeconds.observe(seconds)
    else metrics.voteReceiveSeconds.observe({ type: kind }, seconds)
  }

  /** A peer is at `height`, which this node committed: send it the commits from there (a few). */
  #help(height: number): void {
    const now = this.#scheduler.now()
    const last = this.#lastHelp.get(height)
    if (last !== undefined && now - last < 500) return
    this.#lastHelp.set(height, now)
    if (this.#lastHelp.size > 256) this.#lastHelp.clear()
    const top = Number(this.#lastCommitted.header.number)
    this.#enqueue(async () => {
      const chain = this.#chain
      for (let h = height; h <= Math.min(height + 4, top); h++) {
        const block = await chain.getBlockByNumber(BigInt(h))
        if (block === undefined) continue
        const cert = await chain.getFinality(block.hash())
        if (cert === undefined || cert.length === 0) continue
        this.#publish({ kind: 'commit', block: encodeBlock(block), certificate: decodeCertificate(cert) })
      }
    })
  }

  /** This node is behind: say where it is, so peers send it commits. */
  #askForHelp(): void {
    const now = this.#scheduler.now()
    if (now - this.#lastStatusAt < 500 || this.#machine === null) return
    this.#lastStatusAt = now
    this.#publish({ kind: 'status', height: this.#machine.height })
  }

  #scheduleGossip(epoch: number): void {
    const ms = this.#opts.gossipMs ?? Math.max(200, Math.floor(this.#opts.config.timeouts.proposeMs / 2))
    this.#scheduler.setTimeout(() => {
      if (epoch !== this.#epoch) return
      this.#enqueue(async () => this.#gossip())
      this.#scheduleGossip(epoch)
    }, ms)
  }

  /** When stalled (the same height, round and step as at the last tick): re-publish own messages and a status. */
  #gossip(): void {
    const m = this.#machine
    if (m === null) return
    const at = `${m.height}/${m.round}/${m.step}`
    const stalled = at === this.#lastGossipAt
    this.#lastGossipAt = at
    if (!stalled) return
    for (const msg of this.#own) this.#publish(msg)
    // Pending evidence: a peer that missed it (a partition) can still put it in its block.
    for (const ev of this.evidence.pending(4)) this.#publish({ kind: 'evidence', evidence: encodeEvidence(ev) })
    // The round's proposal, and the proof-of-lock of our valid value (everyone's prevotes for it): a
    // peer that missed them (a partition, a restart) needs them to accept a re-proposal.
    const proposal = this.#proposalsSeen.get(m.round)
    if (proposal !== undefined) this.#publish({ kind: 'proposal', proposal })
    const { validRound, validValue } = m.snapshot()
    if (validValue !== null) {
      for (const vote of this.#prevotesSeen.get(`${validRound}/${hashKey(validValue)}`) ?? []) {
        this.#publish({ kind: 'vote', vote })
      }
    }
    this.#publish({ kind: 'status', height: m.height })
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
