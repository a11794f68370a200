/**
 * Each block's total work (the sum of its ancestors' and its own header `difficulty`, which is the
 * work of its target), as heaviest-work fork choice compares it. The chain stores total difficulty
 * only on chains that merge by terminal total difficulty, so the engine keeps its own: a bounded
 * memo filled as blocks are judged, and a walk back over stored headers for a block whose parent
 * it has not seen (after a restart: once, to the genesis or the first block it knows).
 */
import type { BlockReader } from '@cairn/chain'
import { bytesToHex, CairnError } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import { PowErrorCode } from './errors.ts'

/** Entries kept before the oldest are forgotten (a forgotten one is walked to again). */
const MAX_ENTRIES = 200_000

export class TotalWork {
  private readonly known = new Map<string, bigint>()

  /** The total work of `header` (its ancestors are read from `reader` when not known). */
  async of(header: BlockHeader, reader: BlockReader): Promise<bigint> {
    const hash = bytesToHex(header.hash())
    const hit = this.known.get(hash)
    if (hit !== undefined) return hit
    // Walk back to a known block (or the genesis), then add up forwards.
    const path: BlockHeader[] = [header]
    let base = 0n
    let cur = header
    while (cur.number > 0n) {
      const parentKey = bytesToHex(cur.parentHash)
      const known = this.known.get(parentKey)
      if (known !== undefined) {
        base = known
        break
      }
      const parent = await reader.getHeader(cur.parentHash)
      if (!parent) {
        throw new CairnError(
          PowErrorCode.NO_WORK,
          `total work of block ${header.number}: ancestor ${parentKey} is not stored`,
          { fault: 'internal' },
        )
      }
      path.push(parent)
      cur = parent
    }
    let total = base
    for (let i = path.length - 1; i >= 0; i--) {
      const h = path[i] as BlockHeader
      total += h.difficulty
      this.remember(bytesToHex(h.hash()), total)
    }
    return total
  }

  /** Records a block's total work (a block this node built on a parent it knows). */
  remember(hash: string, total: bigint): void {
    if (this.known.size >= MAX_ENTRIES) {
      const oldest = this.known.keys().next().value
      if (oldest !== undefined) this.known.delete(oldest)
    }
    this.known.set(hash, total)
  }
}
