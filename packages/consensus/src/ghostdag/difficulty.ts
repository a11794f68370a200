/**
 * Difficulty over the DAG: ASERT (`@cairn/consensus/pow`, aserti3-2d) counted on the DAA score in
 * place of the height. A block's DAA score is the number of blocks in its past — its selected
 * parent's DAA score plus its mergeset's size, blues and reds alike (Kaspa's `daa_score`, without
 * Kaspa's window of excluded old blocks). Counting every block, not only the chain, is what holds
 * the *block* rate at the target however many blocks are mined in parallel; counting reds too
 * means withheld blocks, once merged, make the schedule harder, never easier.
 *
 * A block's target depends on its selected parent alone (its DAA score and timestamp): every block
 * built on the same selected parent has the same target, known before its mergeset is coloured.
 * Times are in milliseconds, so sub-second spacings are exact; ASERT's absolute schedule keeps a
 * timestamp's rounding from accumulating.
 */
import { CairnError } from '@cairn/utils'
import { type AsertParams, asertTarget, bitsFromTarget, targetFromBits } from '../pow/index.ts'
import { GhostdagErrorCode } from './errors.ts'
import type { BlockHash } from './hash.ts'
import { GENESIS_PARENT, type GhostdagStoreReader } from './store.ts'

export interface DagDifficultyOptions {
  /** The target time between blocks (any block, blue or red), in milliseconds: 100 for 10 blocks a second. */
  targetBlockMs: bigint
  /** Milliseconds ahead of (behind) schedule that halve (double) the target. */
  halfLifeMs: bigint
  /** The easiest target allowed. */
  powLimit: bigint
  /** The block the schedule counts from: its DAA score, its parent's time (ms) and its bits. */
  anchor: { daaScore: bigint; parentTimeMs: bigint; bits: number }
}

export interface DagDifficultyModules {
  ghostdag: GhostdagStoreReader
  /** A block's timestamp in milliseconds. */
  timeMs: (hash: BlockHash) => bigint
}

export class DagDifficulty {
  readonly #opts: DagDifficultyOptions
  readonly #m: DagDifficultyModules
  readonly #asert: AsertParams
  readonly #anchorTarget: bigint
  readonly #daa = new Map<BlockHash, bigint>()

  constructor(opts: DagDifficultyOptions, modules: DagDifficultyModules) {
    this.#opts = opts
    this.#m = modules
    this.#asert = { spacing: opts.targetBlockMs, halfLife: opts.halfLifeMs, powLimit: opts.powLimit }
    this.#anchorTarget = targetFromBits(opts.anchor.bits, opts.powLimit)
  }

  /** The number of blocks in `hash`'s past (0 for the genesis). */
  daaScore(hash: BlockHash): bigint {
    const known = this.#daa.get(hash)
    if (known !== undefined) return known
    // Down the selected chain to a known score, then back up (no recursion on long chains).
    const path: BlockHash[] = []
    let score = 0n
    for (let h = hash; ; ) {
      const k = this.#daa.get(h)
      if (k !== undefined) {
        score = k
        break
      }
      const d = this.#m.ghostdag.getGhostdag(h)
      if (!d) throw new CairnError(GhostdagErrorCode.UNKNOWN_BLOCK, `no GhostDAG data for ${h}`)
      if (d.selectedParent === GENESIS_PARENT) {
        this.#daa.set(h, 0n)
        break
      }
      path.push(h)
      h = d.selectedParent
    }
    for (let i = path.length - 1; i >= 0; i--) {
      const d = this.#m.ghostdag.getGhostdag(path[i]!)!
      score += BigInt(d.mergesetBlues.length + d.mergesetReds.length)
      this.#daa.set(path[i]!, score)
    }
    return this.#daa.get(hash)!
  }

  /** The target of a block whose selected parent is `selectedParent` (a compact target's value). */
  nextTarget(selectedParent: BlockHash): bigint {
    const a = this.#opts.anchor
    const timeDiff = this.#m.timeMs(selectedParent) - a.parentTimeMs
    const daaDiff = this.daaScore(selectedParent) - a.daaScore
    return targetFromBits(bitsFromTarget(asertTarget(this.#anchorTarget, timeDiff, daaDiff, this.#asert)))
  }

  /** {@link nextTarget} as the compact bits the block's header must carry. */
  nextBits(selectedParent: BlockHash): number {
    return bitsFromTarget(this.nextTarget(selectedParent))
  }
}
