// Difficulty over the DAG (difficulty.ts): the DAA score is the size of the past (against walked
// pasts on random DAGs), ASERT on it follows the schedule, and in a mining run where the hash rate
// doubles, the block rate — every block, parallel ones included — comes back to the target.
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BlockDag,
  type BlockHash,
  compareSortable,
  DagDifficulty,
  MemoryDagStore,
  MemoryReachabilityStore,
} from '../../src/ghostdag/index.ts'
import { bitsFromTarget, workOf } from '../../src/pow/index.ts'
import { buildRandomDag, randomDagArb } from './random-dag.ts'
import { referencePasts } from './reference.ts'
import { seeded } from './sim/events.ts'

const POW_LIMIT = (1n << 255n) - 1n
const ANCHOR_TARGET = 1n << 240n // work 65,536 a block

describe('difficulty over the DAG', () => {
  it('a DAA score is the number of blocks in the past (random DAGs)', () => {
    fc.assert(
      fc.property(randomDagArb({ maxBlocks: 50, maxDelay: 6, maxK: 4, variedWork: true }), (spec) => {
        const dag = buildRandomDag(spec)
        const store = new MemoryDagStore()
        const bd = new BlockDag(
          { k: dag.k, genesis: dag.genesis },
          { store, reachability: new MemoryReachabilityStore() },
        )
        const dd = new DagDifficulty(
          {
            targetBlockMs: 100n,
            halfLifeMs: 10_000n,
            powLimit: POW_LIMIT,
            anchor: { daaScore: 0n, parentTimeMs: 0n, bits: bitsFromTarget(ANCHOR_TARGET) },
          },
          { ghostdag: store, timeMs: () => 0n },
        )
        const pasts = referencePasts(dag)
        // Half asked as blocks arrive, half only at the end (filled down the chain).
        dag.blocks.forEach((b, i) => {
          bd.addBlock(b.hash, b.parents, b.work)
          if (i % 2 === 0) expect(dd.daaScore(b.hash)).toBe(BigInt(pasts.get(b.hash)!.size))
        })
        for (const b of [dag.genesis, ...dag.blocks.map((x) => x.hash)]) {
          expect(dd.daaScore(b)).toBe(BigInt(pasts.get(b)!.size))
        }
      }),
      { seed: 12, numRuns: 60 },
    )
  })

  it('ASERT on the DAA score: on schedule the anchor target, ahead harder, behind easier', () => {
    const store = new MemoryDagStore()
    const h = (i: number): BlockHash => `0x${(i + 1).toString(16).padStart(64, '0')}`
    const bd = new BlockDag({ k: 3, genesis: h(0) }, { store, reachability: new MemoryReachabilityStore() })
    // Two parallel blocks and one merging them: the merge block's DAA score is 3.
    bd.addBlock(h(1), [h(0)], 1n)
    bd.addBlock(h(2), [h(0)], 1n)
    bd.addBlock(h(3), [h(1), h(2)], 1n)
    let time = 0n
    const dd = new DagDifficulty(
      {
        targetBlockMs: 100n,
        halfLifeMs: 10_000n,
        powLimit: POW_LIMIT,
        anchor: { daaScore: 0n, parentTimeMs: -100n, bits: bitsFromTarget(ANCHOR_TARGET) },
      },
      { ghostdag: store, timeMs: () => time },
    )
    expect(dd.daaScore(h(3))).toBe(3n)
    // A DAA score 3 after the anchor, on schedule: the 4th block due 400 ms after the anchor's parent.
    time = 300n
    expect(dd.nextTarget(h(3))).toBe(ANCHOR_TARGET)
    time = 300n - 10_000n // a half-life ahead: twice as hard
    expect(dd.nextTarget(h(3))).toBe(ANCHOR_TARGET / 2n)
    time = 300n + 10_000n // a half-life behind: twice as easy
    expect(dd.nextTarget(h(3))).toBe(ANCHOR_TARGET * 2n)
  })

  it('holds the block rate at 10 a second through a doubling of the hash rate', () => {
    // Miners see blocks 0.5 s after they are mined: at 10 blocks a second, ~5 in parallel.
    const rand = seeded(2026)
    const store = new MemoryDagStore()
    const genesis: BlockHash = `0x${'00'.repeat(31)}01`
    const bd = new BlockDag({ k: 31, genesis }, { store, reachability: new MemoryReachabilityStore() })
    const times = new Map<BlockHash, bigint>([[genesis, 0n]])
    const dd = new DagDifficulty(
      {
        targetBlockMs: 100n,
        halfLifeMs: 5_000n,
        powLimit: POW_LIMIT,
        anchor: { daaScore: 0n, parentTimeMs: -100n, bits: bitsFromTarget(ANCHOR_TARGET) },
      },
      { ghostdag: store, timeMs: (x) => times.get(x)! },
    )
    const mined: { hash: BlockHash; at: number }[] = [{ hash: genesis, at: 0 }]
    const tipSet = new Set<BlockHash>([genesis])
    const DELAY_MS = 500
    const STEP_MS = 5
    const baseRate = 10 * Number(workOf(ANCHOR_TARGET)) // attempts a second for 10 blocks a second
    let visible = 1 // mined[0..visible) are seen by the miners (the genesis from the start)
    let changed = true
    let tips: { hash: BlockHash; blueWork: bigint }[] = []
    let target = 0n
    let work = 0
    const perSecond: number[] = []
    for (let t = 0; t < 120_000; t += STEP_MS) {
      while (visible < mined.length && mined[visible]!.at <= t - DELAY_MS) {
        changed = true
        for (const p of store.getParents(mined[visible]!.hash) ?? []) tipSet.delete(p)
        tipSet.add(mined[visible]!.hash)
        visible++
      }
      const hashRate = t < 60_000 ? baseRate : 2 * baseRate
      // The template, rebuilt when a block becomes visible: every visible tip (at most 16, highest
      // blue work first), and its selected parent's target.
      if (changed) {
        tips = [...tipSet]
          .map((hash) => ({ hash, blueWork: bd.get(hash)!.blueWork }))
          .sort((a, b) => compareSortable(b, a))
          .slice(0, 16)
        target = dd.nextTarget(tips[0]!.hash)
        work = Number(workOf(target))
        changed = false
      }
      if (rand() < (hashRate * STEP_MS) / 1000 / work) {
        const hash: BlockHash = `0x${createHash('sha256').update(`b${mined.length}`).digest('hex')}`
        bd.addBlock(
          hash,
          tips.map((x) => x.hash),
          workOf(target),
        )
        times.set(hash, BigInt(t))
        mined.push({ hash, at: t })
        const second = Math.floor(t / 1000)
        perSecond[second] = (perSecond[second] ?? 0) + 1
      }
    }
    const rate = (from: number, to: number) => perSecond.slice(from, to).reduce((a, n) => a + (n ?? 0), 0) / (to - from)
    // Before the doubling, then just after it (above target), then settled again.
    expect(rate(10, 60)).toBeGreaterThan(8.5)
    expect(rate(10, 60)).toBeLessThan(11.5)
    expect(rate(60, 63)).toBeGreaterThan(13)
    expect(rate(80, 120)).toBeGreaterThan(8.5)
    expect(rate(80, 120)).toBeLessThan(11.5)
    // ASERT's equilibrium: to double the difficulty the DAG runs ahead of the schedule by one
    // half-life (5 s: 50 blocks), the doubling's log2 — within 2 s of noise.
    const sink = bd.sink
    const lead = Number(dd.daaScore(sink)) - Number(times.get(sink)!) / 100
    expect(lead).toBeGreaterThan(30)
    expect(lead).toBeLessThan(70)
  })
})
