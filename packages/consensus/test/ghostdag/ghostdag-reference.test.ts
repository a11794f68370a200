// GhostDAG against a slow reference that follows the definition (reference.ts) on random DAGs
// made as miners under delay and partitions make them (random-dag.ts), seeded: blue score, blue
// work, selected parent, mergeset blues and reds in order; and the k-cluster property of every
// blue set.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BlockDag, type BlockHash, MemoryDagStore, MemoryReachabilityStore } from '../../src/ghostdag/index.ts'
import { buildRandomDag, type RandomDag, randomDagArb } from './random-dag.ts'
import { referenceGhostdag, referencePasts } from './reference.ts'

function run(dag: RandomDag): BlockDag {
  const bd = new BlockDag(
    { k: dag.k, genesis: dag.genesis },
    { store: new MemoryDagStore(), reachability: new MemoryReachabilityStore() },
  )
  for (const b of dag.blocks) bd.addBlock(b.hash, b.parents, b.work)
  return bd
}

function checkAgainstReference(dag: RandomDag): void {
  const bd = run(dag)
  const ref = referenceGhostdag(dag)
  for (const b of dag.blocks) {
    const got = bd.get(b.hash)!
    const want = ref.get(b.hash)!
    expect({
      blueScore: got.blueScore,
      blueWork: got.blueWork,
      selectedParent: got.selectedParent,
      mergesetBlues: got.mergesetBlues,
      mergesetReds: got.mergesetReds,
    }).toEqual({
      blueScore: want.blueScore,
      blueWork: want.blueWork,
      selectedParent: want.selectedParent,
      mergesetBlues: want.mergesetBlues,
      mergesetReds: want.mergesetReds,
    })
  }
}

describe('GhostDAG against the reference', () => {
  it('equal work per block (as Kaspa at one difficulty): every block, 150 random DAGs', () => {
    fc.assert(
      fc.property(randomDagArb({ maxBlocks: 60, maxDelay: 6, maxK: 4, variedWork: false }), (spec) => {
        checkAgainstReference(buildRandomDag(spec))
      }),
      { seed: 0x6b61737061, numRuns: 150 },
    )
  })

  it('varied work per block (selected parent and order by blue work, not score): 100 random DAGs', () => {
    fc.assert(
      fc.property(randomDagArb({ maxBlocks: 50, maxDelay: 8, maxK: 3, variedWork: true }), (spec) => {
        checkAgainstReference(buildRandomDag(spec))
      }),
      { seed: 69, numRuns: 100 },
    )
  })

  it("every block's blue set is a k-cluster: no blue has more than K blues in its anticone", () => {
    fc.assert(
      fc.property(randomDagArb({ maxBlocks: 40, maxDelay: 4, maxK: 4, variedWork: false }), (spec) => {
        const dag = buildRandomDag(spec)
        const bd = run(dag)
        const pasts = referencePasts(dag)
        // The blue set of every block (its past's blues, and itself): the union of the mergeset
        // blues down its selected chain.
        for (const top of [dag.genesis, ...dag.blocks.map((b) => b.hash)]) {
          const blues = new Set<BlockHash>([top])
          for (let h: BlockHash = top; h !== dag.genesis; h = bd.get(h)!.selectedParent) {
            for (const b of bd.get(h)!.mergesetBlues) blues.add(b)
          }
          for (const b of blues) {
            let anticone = 0
            for (const x of blues) if (x !== b && !pasts.get(x)!.has(b) && !pasts.get(b)!.has(x)) anticone++
            expect(anticone).toBeLessThanOrEqual(dag.k)
          }
        }
      }),
      { seed: 7, numRuns: 100 },
    )
  })
})
