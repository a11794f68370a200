// Random DAGs as miners under network delay make them: each block's parents are the tips of the
// blocks its miner has seen (those mined more than its delay ago), maybe only some of them, and
// during a partition only its own side's. Parents are therefore tips (none in another's past).
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import type { BlockHash } from '../../src/ghostdag/index.ts'

export interface RandomBlockSpec {
  /** How many of the latest blocks this block's miner has not seen yet. */
  delay: number
  /** Bits choosing which of the seen tips it names (at least one). */
  keep: number
  work: number
}

export interface RandomDagSpec {
  k: number
  salt: number
  blocks: RandomBlockSpec[]
  /** Blocks with index in [from, to) see only blocks of their own parity mined since `from`. */
  partition: { from: number; to: number } | null
}

export interface DagBlock {
  hash: BlockHash
  parents: BlockHash[]
  work: bigint
}

export interface RandomDag {
  k: number
  genesis: BlockHash
  blocks: DagBlock[]
}

export function randomDagArb(opts: { maxBlocks: number; maxDelay: number; maxK: number; variedWork: boolean }) {
  return fc.record({
    k: fc.integer({ min: 0, max: opts.maxK }),
    salt: fc.nat(),
    blocks: fc.array(
      fc.record({
        delay: fc.nat(opts.maxDelay),
        keep: fc.integer({ min: 1, max: 0x7fffffff }),
        work: opts.variedWork ? fc.integer({ min: 1, max: 4 }) : fc.constant(1),
      }),
      { minLength: 1, maxLength: opts.maxBlocks },
    ),
    partition: fc.option(
      fc
        .record({ from: fc.nat(opts.maxBlocks), len: fc.nat(opts.maxBlocks) })
        .map((p) => ({ from: p.from, to: p.from + p.len })),
    ),
  })
}

function hashOf(salt: number, i: number): BlockHash {
  return `0x${createHash('sha256').update(`${salt}:${i}`).digest('hex')}`
}

/** Builds the DAG a spec describes, blocks in topological (mining) order, block 0 the genesis. */
export function buildRandomDag(spec: RandomDagSpec): RandomDag {
  const genesis = hashOf(spec.salt, 0)
  const hashes: BlockHash[] = [genesis]
  const parentIdx: number[][] = [[]]
  const blocks: DagBlock[] = []
  spec.blocks.forEach((b, n) => {
    const i = n + 1
    const inPartition = spec.partition !== null && i >= spec.partition.from && i < spec.partition.to
    const seen: number[] = []
    for (let j = 0; j < i - b.delay || j === 0; j++) {
      if (inPartition && j > 0 && j >= spec.partition!.from && j % 2 !== i % 2) continue
      seen.push(j)
    }
    const covered = new Set<number>()
    for (const j of seen) for (const p of parentIdx[j]!) covered.add(p)
    const tips = seen.filter((j) => !covered.has(j))
    let chosen = tips.filter((_, t) => t < 31 && (b.keep >>> t) & 1)
    if (chosen.length === 0) chosen = [tips[tips.length - 1]!]
    parentIdx.push(chosen)
    hashes.push(hashOf(spec.salt, i))
    blocks.push({ hash: hashes[i]!, parents: chosen.map((j) => hashes[j]!), work: BigInt(b.work) })
  })
  return { k: spec.k, genesis, blocks }
}
