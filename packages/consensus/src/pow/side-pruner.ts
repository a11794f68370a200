/**
 * Pruning of side blocks (orphaned branches) a proof-of-work node can no longer take: a branch
 * through a block `depth` or more below the head forks deeper than the reorg limit, so fork choice
 * refuses it whatever its work ({@link PowRules.preferHead}). The pruner hears of every block that
 * may end off the canonical chain (each header the rules judge, each block a reorg reverts, each
 * block this node seals), and once the head is more than the limit above one that is not
 * canonical, deletes it from the store (`EngineChain.pruneSideBlocks`: header, body, receipts;
 * state tries are shared by content and stay), counting `cairn_pow_side_blocks_pruned_total`.
 *
 * A branch goes whole: a side block is kept while a block the pruner heard of descends from it and
 * is not yet that far behind (a branch still growing, or being synced bottom-up). Deleting the
 * lower blocks of a branch under its newer ones left stored blocks whose ancestry was gone: the
 * next block of that branch was refused as if it left the chain below the finalized block, marked
 * bad, and its sender penalised until disconnected (a partitioned minority then never got the
 * majority's branch: pow-partition.e2e's flake).
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
  /** Blocks that may end on a side branch: hash → number and parent (when known). */
  private readonly seen = new Map<string, { number: bigint; parent: string | undefined }>()
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

  /**
   * A block that may end off the canonical chain (judged, reverted, or sealed here); with its
   * parent, its branch's lower blocks are kept while it is within the limit.
   */
  note(hash: Uint8Array, number: bigint, parentHash?: Uint8Array): void {
    this.seen.set(bytesToHex(hash), { number, parent: parentHash ? bytesToHex(parentHash) : undefined })
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
    const growing = this.ancestorsOfRecent(below)
    const doomed: Uint8Array[] = []
    for (const [hash, { number }] of this.seen) {
      if (number > below || growing.has(hash)) continue
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

  /** The blocks heard of that a block above `below` descends from (their branches still grow). */
  private ancestorsOfRecent(below: bigint): Set<string> {
    const out = new Set<string>()
    for (const { number, parent } of this.seen.values()) {
      if (number <= below) continue
      let p = parent
      while (p !== undefined && !out.has(p)) {
        const e = this.seen.get(p)
        if (e === undefined) break
        out.add(p)
        p = e.parent
      }
    }
    return out
  }
}
