// The reachability index against walks over parents on random DAGs (seeded): "is A in the past
// of B" and "is A on B's selected chain" for every pair, at points while the DAG grows, with the
// interval space shrunk and the reindex depth and slack small so that reindexing, reclaiming slack
// below the reindex root and moving the root across chains all happen.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BlockDag,
  type BlockHash,
  GhostdagErrorCode,
  MemoryDagStore,
  MemoryReachabilityStore,
  type ReindexParams,
} from '../../src/ghostdag/index.ts'
import { type Interval, splitExponential } from '../../src/ghostdag/reachability/interval.ts'
import { buildRandomDag, type RandomDag, randomDagArb } from './random-dag.ts'
import { referencePasts } from './reference.ts'

function checkAllPairs(dag: RandomDag, opts: { reindex?: ReindexParams; capacity?: Interval; every: number }): number {
  const store = new MemoryReachabilityStore()
  const bd = new BlockDag(
    { k: dag.k, genesis: dag.genesis, reindex: opts.reindex, capacity: opts.capacity },
    { store: new MemoryDagStore(), reachability: store },
  )
  const pasts = referencePasts(dag)
  const added: BlockHash[] = [dag.genesis]
  let queries = 0
  const check = () => {
    const wrong: string[] = []
    for (const b of added) {
      const chain = new Set<BlockHash>()
      for (
        let h: BlockHash | undefined = b;
        h !== undefined;
        h = h === dag.genesis ? undefined : bd.get(h)!.selectedParent
      ) {
        chain.add(h)
      }
      const past = pasts.get(b)!
      for (const a of added) {
        if (bd.reachability.isDagAncestorOf(a, b) !== (a === b || past.has(a))) wrong.push(`${a} in past of ${b}`)
        if (bd.reachability.isChainAncestorOf(a, b) !== chain.has(a)) wrong.push(`${a} on chain of ${b}`)
        queries += 2
      }
    }
    expect(wrong.slice(0, 5)).toEqual([])
  }
  dag.blocks.forEach((b, i) => {
    bd.addBlock(b.hash, b.parents, b.work)
    added.push(b.hash)
    if ((i + 1) % opts.every === 0) check()
  })
  check()
  return queries
}

describe('reachability index against walks over parents', () => {
  it('default parameters: every pair of 120 random DAGs', () => {
    fc.assert(
      fc.property(randomDagArb({ maxBlocks: 80, maxDelay: 6, maxK: 4, variedWork: false }), (spec) => {
        checkAllPairs(buildRandomDag(spec), { every: 40 })
      }),
      { seed: 0x72656163, numRuns: 120 },
    )
  })

  it('a small space, reindex depth and slack: reindexing in every way, every pair while growing', () => {
    fc.assert(
      fc.property(
        randomDagArb({ maxBlocks: 150, maxDelay: 8, maxK: 3, variedWork: true }),
        fc.record({ depth: fc.integer({ min: 1, max: 6 }), slack: fc.integer({ min: 1, max: 8 }) }),
        (spec, reindex) => {
          checkAllPairs(buildRandomDag(spec), { reindex, capacity: { start: 1, end: 1 << 20 }, every: 25 })
        },
      ),
      { seed: 0x696e74, numRuns: 80 },
    )
  })

  it('a long partition whose losing side is merged: the reindex root moves across chains', () => {
    // Two sides mine apart for 120 blocks each, then the DAG joins them; slack 4 lets the root switch.
    const spec = {
      k: 3,
      salt: 1,
      blocks: Array.from({ length: 300 }, (_, i) => ({ delay: i % 3, keep: 0x7fffffff, work: i % 5 === 0 ? 2 : 1 })),
      partition: { from: 20, to: 260 },
    }
    const q = checkAllPairs(buildRandomDag(spec), {
      reindex: { depth: 3, slack: 4 },
      capacity: { start: 1, end: 1 << 16 },
      every: 60,
    })
    expect(q).toBeGreaterThan(100_000)
  })

  it('a 2,000-block chain in a space of 2^16 (a reindex every ~16 blocks) answers along the chain', () => {
    const genesis: BlockHash = `0x${'11'.repeat(32)}`
    const bd = new BlockDag(
      { k: 0, genesis, reindex: { depth: 10, slack: 2 }, capacity: { start: 1, end: 1 << 16 } },
      { store: new MemoryDagStore(), reachability: new MemoryReachabilityStore() },
    )
    const chain: BlockHash[] = [genesis]
    for (let i = 1; i <= 2000; i++) {
      const h = `0x${i.toString(16).padStart(64, '0')}` as BlockHash
      bd.addBlock(h, [chain[i - 1]!], 1n)
      chain.push(h)
    }
    for (let i = 0; i < chain.length; i += 97) {
      for (let j = 0; j < chain.length; j += 89) {
        expect(bd.reachability.isDagAncestorOf(chain[i]!, chain[j]!)).toBe(i <= j)
      }
    }
  })

  it('refuses a parent in the past of another parent, a duplicate parent, an unknown parent', () => {
    const g: BlockHash = `0x${'01'.repeat(32)}`
    const a: BlockHash = `0x${'0a'.repeat(32)}`
    const b: BlockHash = `0x${'0b'.repeat(32)}`
    const bd = new BlockDag(
      { k: 3, genesis: g },
      { store: new MemoryDagStore(), reachability: new MemoryReachabilityStore() },
    )
    bd.addBlock(a, [g], 1n)
    const refused = (fn: () => unknown) => {
      try {
        fn()
      } catch (e) {
        return e as { code: string; message: string }
      }
      throw new Error('not refused')
    }
    expect(refused(() => bd.addBlock(b, [a, g], 1n))).toMatchObject({
      code: GhostdagErrorCode.UNKNOWN_BLOCK,
      message: expect.stringContaining('in the past of its parent'),
    })
    expect(refused(() => bd.addBlock(b, [a, a], 1n)).message).toContain('twice')
    expect(refused(() => bd.addBlock(b, [`0x${'ff'.repeat(32)}`], 1n)).message).toContain('not in the DAG')
    expect(refused(() => bd.addBlock(a, [g], 1n)).message).toContain('already')
    expect(bd.has(b)).toBe(false)
  })

  it('splits space exponentially towards the largest subtree, exactly covering it', () => {
    const parts = splitExponential({ start: 1, end: 1000 }, [1, 5, 2])
    expect(parts[0]!.start).toBe(1)
    expect(parts[2]!.end).toBe(1000)
    for (let i = 1; i < parts.length; i++) expect(parts[i]!.start).toBe(parts[i - 1]!.end + 1)
    expect(parts[1]!.end - parts[1]!.start + 1).toBeGreaterThan(800)
  })
})
