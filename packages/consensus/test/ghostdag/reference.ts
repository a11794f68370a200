// Slow, obviously-correct references: the past of every block by walking its parents, and
// GhostDAG straight from its definition (blue set, anticones, the k-cluster rule) over those sets.
import { type BlockHash, compareHashes } from '../../src/ghostdag/index.ts'
import type { RandomDag } from './random-dag.ts'

/** past(B) for every block, by a walk over parents (B itself excluded). */
export function referencePasts(dag: RandomDag): Map<BlockHash, Set<BlockHash>> {
  const parents = new Map<BlockHash, BlockHash[]>([[dag.genesis, []]])
  for (const b of dag.blocks) parents.set(b.hash, b.parents)
  const pasts = new Map<BlockHash, Set<BlockHash>>()
  for (const start of parents.keys()) {
    const past = new Set<BlockHash>()
    const stack = [...parents.get(start)!]
    while (stack.length > 0) {
      const h = stack.pop()!
      if (past.has(h)) continue
      past.add(h)
      stack.push(...parents.get(h)!)
    }
    pasts.set(start, past)
  }
  return pasts
}

export interface ReferenceData {
  blueScore: number
  blueWork: bigint
  selectedParent: BlockHash | null
  mergesetBlues: BlockHash[]
  mergesetReds: BlockHash[]
  /** The blue blocks in the block's past. */
  blueSet: Set<BlockHash>
}

/** GhostDAG by its definition, every set recomputed from scratch. */
export function referenceGhostdag(dag: RandomDag): Map<BlockHash, ReferenceData> {
  const pasts = referencePasts(dag)
  const out = new Map<BlockHash, ReferenceData>()
  const work = new Map<BlockHash, bigint>([[dag.genesis, 0n]])
  out.set(dag.genesis, {
    blueScore: 0,
    blueWork: 0n,
    selectedParent: null,
    mergesetBlues: [],
    mergesetReds: [],
    blueSet: new Set(),
  })
  const cmp = (a: BlockHash, b: BlockHash) => {
    const wa = out.get(a)!.blueWork
    const wb = out.get(b)!.blueWork
    return wa !== wb ? (wa < wb ? -1 : 1) : compareHashes(a, b)
  }
  const inAnticone = (a: BlockHash, b: BlockHash) => a !== b && !pasts.get(a)!.has(b) && !pasts.get(b)!.has(a)
  for (const block of dag.blocks) {
    work.set(block.hash, block.work)
    const sp = [...block.parents].sort(cmp).at(-1)!
    const spPast = pasts.get(sp)!
    const mergeset = [...pasts.get(block.hash)!].filter((x) => x !== sp && !spPast.has(x)).sort(cmp)
    const blues = new Set([...out.get(sp)!.blueSet, sp])
    const mergesetBlues = [sp]
    const mergesetReds: BlockHash[] = []
    for (const c of mergeset) {
      const blueAnticone = [...blues].filter((b) => inAnticone(b, c))
      const ok =
        blueAnticone.length <= dag.k &&
        blueAnticone.every((b) => [...blues].filter((x) => inAnticone(x, b)).length + 1 <= dag.k)
      if (ok) {
        blues.add(c)
        mergesetBlues.push(c)
      } else mergesetReds.push(c)
    }
    const parent = out.get(sp)!
    out.set(block.hash, {
      blueScore: parent.blueScore + mergesetBlues.length,
      blueWork: parent.blueWork + mergesetBlues.reduce((s, b) => s + work.get(b)!, 0n),
      selectedParent: sp,
      mergesetBlues,
      mergesetReds,
      blueSet: blues,
    })
  }
  return out
}
