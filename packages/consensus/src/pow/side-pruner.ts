/**
 * Pruning of side blocks (orphaned branches) a proof-of-work node can no longer take: a branch
 * through a block `depth` or more below the head forks deeper than the reorg limit, so fork choice
 * refuses it whatever its work ({@link PowRules.preferHead}). The pruner hears of every block that
 * may end off the canonical chain (each header the rules judge, each block a reorg reverts, each
 * block this node seals), and once the head is more than the limit above one that is not
 * canonical, deletes it from the store (`EngineChain.pruneSideBlocks`: header, body, receipts;
 * state tries are shared by content and stay), counting `cairn_pow_side_blocks_pruned_total`.
 *
 * Kept: the blocks of a heavier branch the limit refused (from its fork point up), which an
 * operator may still take with `cairn chain accept-branch`. Not pruned: side blocks stored before
 * this process started (the pruner knows only what it saw); they cost disk, never correctness.
 */
import type { EngineChain } from '@cairn/chain'
import { bytesToHex, hexToBytes, type Logger } from '@cairn/utils'
import type { PowMetrics } from './pow-metrics.ts'

export interface SidePrunerModules {
  logger: Logger
  metrics?: PowMetrics | null
}

export class SidePruner {
  /** Blocks that may end on a side branch: hash → number. */
  private readonly seen = new Map<string, bigint>()
  /** The lowest fork point of a refused heavier branch: side blocks above it are kept. */
  private keepAbove: bigint | undefined
  private running: Promise<void> | undefined

  constructor(
    private readonly opts: { maxReorgDepth: number },
    private readonly modules: SidePrunerModules,
  ) {}

  /** Blocks being watched (for tests and the log). */
  get watching(): number {
    return this.seen.size
  }

  /** A block that may end off the canonical chain (judged, reverted, or sealed here). */
  note(hash: Uint8Array, number: bigint): void {
    this.seen.set(bytesToHex(hash), number)
  }

  /** A heavier branch forking at `ancestor` was refused: keep side blocks above it (accept-branch may take them). */
  keepBranchAbove(ancestor: bigint): void {
    if (this.keepAbove === undefined || ancestor < this.keepAbove) this.keepAbove = ancestor
  }

  /**
   * Deletes the side blocks the head at `head` has left more than the limit behind; forgets the
   * canonical ones. One run at a time (a run under way is joined). Resolves to how many it deleted.
   */
  async prune(chain: Pick<EngineChain, 'pruneSideBlocks' | 'getCanonicalHash'>, head: bigint): Promise<number> {
    if (this.running) await this.running
    let deleted = 0
    const run = this.run(chain, head).then((n) => {
      deleted = n
    })
    this.running = run
    try {
      await run
    } finally {
      if (this.running === run) this.running = undefined
    }
    return deleted
  }

  private async run(chain: Pick<EngineChain, 'pruneSideBlocks' | 'getCanonicalHash'>, head: bigint): Promise<number> {
    const below = head - BigInt(this.opts.maxReorgDepth)
    const doomed: Uint8Array[] = []
    for (const [hash, number] of this.seen) {
      if (number > below) continue
      this.seen.delete(hash)
      const canonical = await chain.getCanonicalHash(number)
      if (canonical && bytesToHex(canonical) === hash) continue
      if (this.keepAbove !== undefined && number > this.keepAbove) continue
      doomed.push(hexToBytes(hash as `0x${string}`))
    }
    if (doomed.length === 0) return 0
    const deleted = await chain.pruneSideBlocks(doomed)
    if (deleted > 0) {
      this.modules.metrics?.sideBlocksPruned.inc(deleted)
      this.modules.logger.info(
        { deleted, head: Number(head), maxReorgDepth: this.opts.maxReorgDepth },
        'pruned side blocks older than the reorg limit',
      )
    }
    return deleted
  }
}
