/**
 * The proof-of-work chain's rules, as the import pipeline sees them (`ChainEngine`): what a header
 * must satisfy against its parent, cheapest first — its timestamp within the clock's bound, its
 * `difficulty` the work of the target ASERT gives the parent, and its seal (one Argon2id, the only
 * expensive step, remembered once verified so gossip's pre-check and the import pay it once) — and
 * heaviest-work fork choice with a maximum reorg depth. Every refusal but the clock's is the
 * sender's fault (`fault: 'caller'`): the front door refuses the block before executing it, writes
 * nothing and penalises the peer. The producer (`PowEngine`) extends this with mining.
 *
 * The reorg limit: a heavier branch that would revert more than `maxReorgDepth` canonical blocks
 * is not made the head — it stays a stored side branch — with a warning in the log and
 * `cairn_pow_reorgs_refused_total`; an operator who knows the branch is right accepts it
 * ({@link PowRules.acceptBranch}, `cairn chain accept-branch`), and the next block of that branch
 * (or a heavier one) moves the head. docs/consensus/pow.md says what the limit trades.
 */
import type { BlockReader, ChainEngine, HeaderContext } from '@cairn/chain'
import { bytesToHex, CairnError, equalsBytes, type Logger } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import { type AsertAnchor, nextAsertTarget } from './asert.ts'
import { PowErrorCode } from './errors.ts'
import { prefersHead } from './fork-choice.ts'
import { DEFAULT_BLOCK_REWARD, genesisAnchor, type PowChainParams } from './params.ts'
import type { PowMetrics } from './pow-metrics.ts'
import { checkDifficulty, verifySeal } from './seal.ts'
import { SidePruner } from './side-pruner.ts'
import { TotalWork } from './total-work.ts'

/** Bitcoin Cash's limit: a branch reverting more canonical blocks than this is refused. */
export const DEFAULT_MAX_REORG_DEPTH = 10
/** How far ahead of the local clock a header's timestamp may be, in seconds (geth's ethash: 15). */
export const DEFAULT_MAX_FUTURE_SECONDS = 15
/** Seals verified and remembered (by block hash) before the oldest are forgotten. */
const VERIFIED_SEALS = 4096

export interface PowRulesOptions {
  /** The chain's parameters (`parsePowConfig(genesis)`). */
  params: PowChainParams
  /** A heavier branch that reverts more canonical blocks than this is refused (default 10). */
  maxReorgDepth?: number
  /** How far ahead of the clock a header's timestamp may be, in seconds (default 15). */
  maxFutureSeconds?: number
}

export interface PowRulesModules {
  logger: Logger
  metrics?: PowMetrics | null
  /** Seconds since the epoch (default: the wall clock). */
  now?: () => number
}

export class PowRules implements ChainEngine {
  readonly name: string = 'pow'
  /** This engine checks proof-of-work headers itself (its seal and ASERT), not Ethash's rules. */
  readonly sealsProofOfWork = true
  readonly params: PowChainParams
  readonly maxReorgDepth: number
  /** Each block's total work, for fork choice. */
  readonly totalWork = new TotalWork()
  /** The stored blocks, once known (the chain given at attach, or the first header context). */
  protected reader: BlockReader | undefined
  private anchor: AsertAnchor | undefined
  private readonly verified = new Set<string>()
  /** Side blocks older than the reorg limit, deleted as the head moves on. */
  readonly sidePruner: SidePruner
  /** Blocks an operator accepted: a branch through one of them passes the reorg limit. */
  protected readonly accepted = new Set<string>()

  constructor(
    opts: PowRulesOptions,
    protected readonly deps: PowRulesModules,
  ) {
    this.params = opts.params
    this.maxReorgDepth = opts.maxReorgDepth ?? DEFAULT_MAX_REORG_DEPTH
    this.maxFutureSeconds = opts.maxFutureSeconds ?? DEFAULT_MAX_FUTURE_SECONDS
    this.sidePruner = new SidePruner({ maxReorgDepth: this.maxReorgDepth }, deps)
  }

  private readonly maxFutureSeconds: number

  /** Seconds since the epoch, from the injected clock. */
  protected nowSeconds(): number {
    return this.deps.now ? this.deps.now() : Date.now() / 1000
  }

  /** Wei a block pays its coinbase besides fees (`config.cairn.pow.blockReward`): the chain credits it. */
  get blockReward(): bigint {
    return this.params.blockReward ?? DEFAULT_BLOCK_REWARD
  }

  /** Whether the block at `number` is past proof of work (the chain's transition height). */
  afterTransition(number: bigint): boolean {
    const t = this.params.transition
    return t !== undefined && number >= t.height
  }

  async validateHeader(header: BlockHeader, parent: BlockHeader, ctx: HeaderContext): Promise<void> {
    this.reader ??= ctx.chain
    if (this.afterTransition(header.number)) {
      const t = this.params.transition as { height: bigint; engine: string }
      throw new CairnError(
        PowErrorCode.AFTER_TRANSITION,
        `block ${header.number} is a proof-of-work block, but the chain runs ${t.engine} from block ${t.height}`,
        { fault: 'caller', hint: 'a miner that kept mining past the transition: upgrade it, or stop it' },
      )
    }
    const limit = BigInt(Math.floor(this.nowSeconds())) + BigInt(this.maxFutureSeconds)
    if (header.timestamp > limit) {
      throw new CairnError(
        PowErrorCode.TIMESTAMP_FUTURE,
        `block ${header.number}: timestamp ${header.timestamp} is more than ${this.maxFutureSeconds} s ahead of this node's clock`,
        { fault: 'transient', hint: "check this node's clock (NTP); the block may be valid later" },
      )
    }
    const target = await this.targetAfter(parent, ctx.chain)
    checkDifficulty(header, target)
    await this.checkSeal(header, target)
    this.sidePruner.note(header.hash(), header.number, header.parentHash)
  }

  /** The target (ASERT, anchored at the genesis) of the block built on `parent`. */
  async targetAfter(parent: BlockHeader, reader: BlockReader | undefined = this.reader): Promise<bigint> {
    return nextAsertTarget(
      await this.anchorOf(reader),
      { height: parent.number, time: parent.timestamp },
      this.params.asert,
    )
  }

  /** Verifies `header`'s seal against `target` once (a verified block hash is remembered). */
  async checkSeal(header: BlockHeader, target: bigint): Promise<void> {
    const key = bytesToHex(header.hash())
    if (this.verified.has(key)) return
    const started = performance.now()
    await verifySeal(header, this.params.seal, target)
    this.deps.metrics?.sealVerifySeconds.observe((performance.now() - started) / 1000)
    if (this.verified.size >= VERIFIED_SEALS) {
      const oldest = this.verified.values().next().value
      if (oldest !== undefined) this.verified.delete(oldest)
    }
    this.verified.add(key)
  }

  /**
   * Heaviest total work wins, a tie keeps the head (first seen); and no branch that reverts more
   * than {@link maxReorgDepth} canonical blocks, unless an operator accepted it.
   */
  async preferHead(candidate: BlockHeader, current: BlockHeader): Promise<boolean> {
    const reader = this.mustReader()
    const [c, h] = [await this.totalWork.of(candidate, reader), await this.totalWork.of(current, reader)]
    if (!prefersHead(c, h)) return false
    const { depth, accepted, ancestor } = await this.reorgDepth(candidate, current, reader)
    if (depth <= this.maxReorgDepth || accepted) return true
    this.deps.metrics?.reorgsRefused.inc()
    this.sidePruner.keepBranchAbove(ancestor)
    this.deps.logger.warn(
      {
        depth,
        maxReorgDepth: this.maxReorgDepth,
        candidate: bytesToHex(candidate.hash()),
        number: Number(candidate.number),
        ancestor: Number(ancestor),
        head: bytesToHex(current.hash()),
      },
      'heavier branch refused: it would revert more blocks than the reorg limit (cairn chain accept-branch <hash> takes it)',
    )
    return false
  }

  /**
   * Lets the branch through `hash` (a stored block) pass the reorg limit: the next block on it
   * that is heavier than the head makes it the head.
   * @throws CairnError `CONSENSUS_POW_UNKNOWN_BRANCH` when the block is not stored
   */
  async acceptBranch(hash: Uint8Array): Promise<{ number: bigint; canonical: boolean }> {
    const reader = this.mustReader()
    const header = await reader.getHeader(hash)
    if (!header) {
      throw new CairnError(PowErrorCode.UNKNOWN_BRANCH, `block ${bytesToHex(hash)} is not stored on this node`, {
        fault: 'caller',
        hint: 'the block must have reached this node (as a side block) first: check cairn_pow logs for the refused branch',
      })
    }
    this.accepted.add(bytesToHex(hash))
    const canonical = await reader.getCanonicalHash(header.number)
    this.deps.logger.warn(
      { block: bytesToHex(hash), number: Number(header.number) },
      'branch accepted past the reorg limit',
    )
    return { number: header.number, canonical: canonical !== undefined && equalsBytes(canonical, hash) }
  }

  /** How many canonical blocks making `candidate` the head reverts, and whether an accepted block is on its branch. */
  private async reorgDepth(
    candidate: BlockHeader,
    current: BlockHeader,
    reader: BlockReader,
  ): Promise<{ depth: number; accepted: boolean; ancestor: bigint }> {
    let accepted = this.accepted.has(bytesToHex(candidate.hash()))
    let cur: BlockHeader | undefined = candidate
    while (cur && cur.number > 0n) {
      const parent: BlockHeader | undefined = await reader.getHeader(cur.parentHash)
      if (!parent) break
      const canonical = await reader.getCanonicalHash(parent.number)
      if (canonical !== undefined && equalsBytes(canonical, parent.hash()) && parent.number <= current.number) {
        return { depth: Number(current.number - parent.number), accepted, ancestor: parent.number }
      }
      if (this.accepted.has(bytesToHex(parent.hash()))) accepted = true
      cur = parent
    }
    return { depth: Number(current.number), accepted, ancestor: 0n }
  }

  private async anchorOf(reader: BlockReader | undefined): Promise<AsertAnchor> {
    if (this.anchor) return this.anchor
    const genesisHash = await reader?.getCanonicalHash(0n)
    const genesis = genesisHash ? await reader?.getHeader(genesisHash) : undefined
    if (!genesis) {
      throw new CairnError(PowErrorCode.NO_WORK, 'the proof-of-work rules have no chain to read the genesis from', {
        fault: 'internal',
      })
    }
    this.anchor = genesisAnchor(this.params, genesis)
    return this.anchor
  }

  protected mustReader(): BlockReader {
    if (!this.reader) {
      throw new CairnError(PowErrorCode.NO_WORK, 'the proof-of-work engine was not attached to a chain', {
        fault: 'internal',
        hint: 'call engine.attach({ chain, pool }) after opening the chain',
      })
    }
    return this.reader
  }
}
