// A seeded, virtual-time model of mining under a difficulty rule: one block after another, each
// found after an exponentially distributed time whose mean is the block's work (expected attempts,
// 2^256 / (target + 1)) over the hash rate of the moment (attempts per second). Nothing reads a
// clock; the PRNG is the simulator's only randomness. Timestamps are whole seconds, as in headers.
import type { AsertParams } from '../../src/pow/asert.ts'
import { nextAsertTarget } from '../../src/pow/asert.ts'
import { workOf } from '../../src/pow/work.ts'
import { Prng } from '../bft/sim/prng.ts'

/** The target the rule gives the block after `tip` (its parent). */
export type DifficultyRule = (tip: { height: bigint; time: bigint }) => bigint

export interface SimBlock {
  height: bigint
  time: bigint
  target: bigint
  /** The hash rate it was mined at (attempts per second). */
  hashrate: number
  /** Seconds since its parent (≥ 0). */
  solveTime: number
  /** The mean solve time its target implied at that hash rate: work / hash rate. */
  expectedTime: number
}

export interface Phase {
  blocks: number
  hashrate: number
}

/** Mines `phases` one after another from a genesis at `start`; returns every block after genesis. */
export function mineBlocks(opts: {
  seed: number
  rule: DifficultyRule
  start: { height: bigint; time: bigint }
  phases: readonly Phase[]
}): SimBlock[] {
  const rng = new Prng(opts.seed)
  const out: SimBlock[] = []
  let tip = opts.start
  for (const phase of opts.phases) {
    for (let i = 0; i < phase.blocks; i++) {
      const target = opts.rule(tip)
      const expectedTime = Number(workOf(target)) / phase.hashrate
      // exponential: −ln(1 − U) × mean, U in [0, 1)
      const solveTime = Math.round(-Math.log(1 - rng.float()) * expectedTime)
      const block = {
        height: tip.height + 1n,
        time: tip.time + BigInt(solveTime),
        target,
        hashrate: phase.hashrate,
        solveTime,
        expectedTime,
      }
      out.push(block)
      tip = block
    }
  }
  return out
}

/** ASERT anchored at genesis (its parent one spacing earlier), as a chain would run it. */
export function asertRule(
  params: AsertParams,
  genesis: { height: bigint; time: bigint; bits: number },
): DifficultyRule {
  const anchor = { height: genesis.height, parentTime: genesis.time - params.spacing, bits: genesis.bits }
  return (tip) => nextAsertTarget(anchor, tip, params)
}

export interface Recovery {
  /** Seconds from the hash rate change to the first block from which every block's expected time stays in the band. */
  seconds: number
  /** Blocks from the change to that block. */
  blocks: number
  /** Mean solve time of the blocks of the phase from that block on. */
  meanAfter: number
  /** Mean solve time of the phase's first `early` blocks (how hard the change hit). */
  meanEarly: number
}

/**
 * How a phase (its blocks: those after a hash rate change) returned to the spacing: the first
 * block from which the expected block time stays within ±`band` of `spacing` to the end of the
 * phase (undefined when the phase ends outside the band).
 */
export function recovery(blocks: readonly SimBlock[], spacing: number, band: number, early = 20): Recovery | undefined {
  let from = blocks.length
  while (from > 0 && Math.abs(blocks[from - 1]!.expectedTime / spacing - 1) <= band) from--
  if (from === blocks.length) return undefined
  const mean = (bs: readonly SimBlock[]) => bs.reduce((s, b) => s + b.solveTime, 0) / bs.length
  const start = blocks[0]!.time - BigInt(blocks[0]!.solveTime)
  const reached = from === 0 ? start : blocks[from - 1]!.time
  return {
    seconds: Number(reached - start),
    blocks: from,
    meanAfter: mean(blocks.slice(from)),
    meanEarly: mean(blocks.slice(0, early)),
  }
}
