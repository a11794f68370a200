/**
 * One engine per era: a chain that runs one engine below a height and another from it (the PoW →
 * PoS transition, `config.cairn.pow.transition`: proof of work to block H − 1, BFT from H). The
 * `ScheduledEngine` holds both, each unchanged, and answers every `ChainEngine` hook by the block's
 * height: header checks, begin/end block hooks and parent finality from the engine of the block's
 * era; fork choice by the earlier engine while both blocks are below H, by the later one as soon
 * as one is at or above H (BFT: the higher block wins, a committed block is never reverted).
 *
 * Producing: the earlier engine runs from {@link start}; once the head reaches H − 1 (at start or
 * by a new head) it is stopped and the later engine started, which builds H on that head. The
 * chain's own ruleset changes at H too (the genesis schedules the merge at H: difficulty 0, no
 * block reward), which is the chain's business, not the engine's. docs/consensus/pow.md.
 */
import type {
  BlockHookContext,
  BuildHeader,
  BuildResult,
  EndBlockContext,
  EndBlockResult,
  EngineChain,
  ExecutedBlock,
  HeaderContext,
  ImportResult,
  ParentBlock,
} from '@cairn/chain'
import { type ChainFollower, followChain, type TxPool } from '@cairn/txpool'
import { CairnError, type Logger } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import type { Engine, EngineCapabilities } from '../engine.ts'
import { ConsensusErrorCode } from '../errors.ts'

export interface ScheduledEngineOptions {
  /** The first block of the later engine (the transition height H). */
  height: bigint
}

export interface ScheduledEngineModules {
  /** The engine of the blocks below `height` (proof of work). */
  before: Engine
  /** The engine of the blocks from `height` on (BFT). */
  after: Engine
  logger: Logger
}

/**
 * Which terminal blocks (at H − 1) the later engine may build its first block on besides its own
 * (BFT's `terminalAccepts`): by the earlier engine's fork choice, any that `own` does not beat (for
 * proof of work: not less total work). Validators that hold different blocks at H − 1 (two mined
 * at once) then vote for one proposal, whichever they hold; the heavier when the work differs.
 */
export function terminalRule(
  before: Pick<Engine, 'preferHead'>,
): (candidate: BlockHeader, own: BlockHeader) => Promise<boolean> {
  return async (candidate, own) => !(await before.preferHead(own, candidate))
}

export class ScheduledEngine implements Engine {
  readonly name: string
  /** The earlier era's proof-of-work blocks are checked by its engine (its seal), not Ethash's rules. */
  readonly sealsProofOfWork: boolean
  /** The earlier era's reward (the chain credits it only on a proof-of-work ruleset). */
  readonly blockReward?: bigint
  /** The later engine's base fee floor (governance), if it has one. */
  readonly baseFeeFloor?: boolean
  readonly capabilities: EngineCapabilities
  private attached: { chain: EngineChain; pool: TxPool; follower: ChainFollower } | undefined
  private ownFollower: ChainFollower | undefined
  private running = false
  /** Which engine produces now (undefined: none started). */
  private producing: 'before' | 'after' | undefined
  private handover: Promise<void> | undefined
  private unsubscribe: (() => void) | undefined

  constructor(
    readonly opts: ScheduledEngineOptions,
    private readonly m: ScheduledEngineModules,
  ) {
    const { before, after } = m
    this.name = `${before.name}→${after.name}`
    this.sealsProofOfWork = before.sealsProofOfWork === true
    if (before.blockReward !== undefined) this.blockReward = before.blockReward
    if (after.baseFeeFloor !== undefined) this.baseFeeFloor = after.baseFeeFloor
    const b = before.capabilities
    const a = after.capabilities
    const beforeWork = b?.headWork
    this.capabilities = {
      // The earlier era's heads are announced (its blocks travel so); the later engine's topic is
      // connected from the start, idle until H.
      announcesHeads: b?.announcesHeads ?? true,
      // … until the hand-over: the later engine's blocks travel in its own messages (BFT's
      // proposals and commits), and announced too they would be executed twice by its validators.
      announcesHead: (number) => !this.isAfter(number) && (b?.announcesHead?.(number) ?? true),
      alwaysRuns: (b?.alwaysRuns ?? false) || (a?.alwaysRuns ?? false),
      ...(a?.consensusTopic ? { consensusTopic: a.consensusTopic } : {}),
      ...(a?.validatorSets ? { validatorSets: a.validatorSets } : {}),
      ...(b?.work ? { work: b.work } : {}),
      // Total work compares heads only in the earlier era: above H − 1 no block adds work.
      ...(beforeWork ? { headWork: () => (this.pastWork() ? undefined : beforeWork()) } : {}),
      ...(b?.waitsForSync ? { waitsForSync: b.waitsForSync } : {}),
    }
  }

  /** Whether `number` is a block of the later era. */
  isAfter(number: bigint): boolean {
    return number >= this.opts.height
  }

  private engineOf(number: bigint): Engine {
    return this.isAfter(number) ? this.m.after : this.m.before
  }

  private pastWork(): boolean {
    const head = this.attached?.chain.head
    return head !== undefined && this.isAfter(head.header.number)
  }

  /**
   * By the block's era; a block of the later era that carries work (a miner that kept mining) is
   * the earlier engine's to refuse, with its own code (proof of work: `CONSENSUS_POW_AFTER_TRANSITION`).
   */
  validateHeader(header: BlockHeader, parent: BlockHeader, ctx: HeaderContext): Promise<void> {
    const mined = this.sealsProofOfWork && header.difficulty > 0n
    return (mined ? this.m.before : this.engineOf(header.number)).validateHeader(header, parent, ctx)
  }

  async beginBlock(ctx: BlockHookContext): Promise<void> {
    await this.engineOf(ctx.header.number).beginBlock?.(ctx)
  }

  async endBlock(ctx: EndBlockContext): Promise<EndBlockResult | undefined> {
    return this.engineOf(ctx.header.number).endBlock?.(ctx)
  }

  preferHead(candidate: BlockHeader, current: BlockHeader): Promise<boolean> {
    const later = this.isAfter(candidate.number) || this.isAfter(current.number)
    return (later ? this.m.after : this.m.before).preferHead(candidate, current)
  }

  /** Only a later-era block's parent at or above H is proven final by it (H carries no proof). */
  parentFinality(header: BlockHeader): Uint8Array | undefined {
    return header.number > this.opts.height ? this.m.after.parentFinality?.(header) : undefined
  }

  attach(modules: { chain: EngineChain; pool: TxPool; follower?: ChainFollower }): void {
    // One follower of the chain for the pool, shared (each engine would otherwise make its own).
    this.ownFollower?.stop()
    this.ownFollower = modules.follower ? undefined : followChain(modules.pool, modules.chain.events, this.m)
    const follower = modules.follower ?? (this.ownFollower as ChainFollower)
    this.attached = { chain: modules.chain, pool: modules.pool, follower }
    this.m.before.attach({ ...this.attached })
    this.m.after.attach({ ...this.attached })
  }

  private get chain(): EngineChain {
    const chain = this.attached?.chain
    if (!chain) {
      throw new CairnError(ConsensusErrorCode.NOT_ATTACHED, 'the engine was not attached to a chain and a pool', {
        hint: 'call engine.attach({ chain, pool }) after opening the chain with the engine',
      })
    }
    return chain
  }

  /** Starts the engine of the era the head is in; hands over at H − 1. */
  async start(): Promise<void> {
    if (this.running) return
    const chain = this.chain
    this.running = true
    const onHead = () => {
      if (this.producing === 'before' && this.isAfter(chain.head.header.number + 1n)) void this.handOver()
    }
    chain.events.on('newHead', onHead)
    this.unsubscribe = () => chain.events.off('newHead', onHead)
    if (this.isAfter(chain.head.header.number + 1n)) {
      this.producing = 'after'
      await this.m.after.start()
    } else {
      this.producing = 'before'
      await this.m.before.start()
    }
  }

  /** The head reached H − 1: the earlier engine stops, the later one starts on that head. */
  private handOver(): Promise<void> {
    this.handover ??= (async () => {
      this.m.logger.info(
        { height: Number(this.opts.height), from: this.m.before.name, to: this.m.after.name },
        'transition: the next block is the first of the new engine',
      )
      await this.m.before.stop()
      if (!this.running) return
      this.producing = 'after'
      await this.m.after.start()
    })().catch((err: unknown) => this.m.logger.error({ err }, 'transition: the new engine did not start'))
    return this.handover
  }

  /** Resolves once the later engine runs (for tests and the node's log): after {@link start}. */
  async handedOver(): Promise<void> {
    await this.handover
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.unsubscribe?.()
    await this.handover
    if (this.producing === 'before') await this.m.before.stop()
    if (this.producing === 'after') await this.m.after.stop()
    this.producing = undefined
    this.ownFollower?.stop()
  }

  nextBlockEnv(parent: Block): BuildHeader {
    return this.engineOf(parent.header.number + 1n).nextBlockEnv(parent)
  }

  propose(parent: ParentBlock): Promise<BuildResult> {
    const block = 'writes' in parent ? parent.block : parent
    return this.engineOf(block.header.number + 1n).propose(parent)
  }

  commit(proposal: ExecutedBlock): Promise<ImportResult> {
    return this.engineOf(proposal.block.header.number).commit(proposal)
  }
}
