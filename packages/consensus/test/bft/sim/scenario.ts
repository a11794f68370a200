/** A simulation scenario drawn from a seed: the validators, who is faulty and how, and the network's weather. */
import { Prng } from './prng.ts'

export type Behaviour = 'honest' | 'silent' | 'equivocate' | 'double-propose' | 'ignore-locks' | 'invalid-proposal'
export const BYZANTINE_BEHAVIOURS: readonly Behaviour[] = [
  'silent',
  'equivocate',
  'double-propose',
  'ignore-locks',
  'invalid-proposal',
]

export interface Scenario {
  seed: number
  /** Validators of the genesis set (nodes 0..n−1). */
  n: number
  powers: bigint[]
  /** One per node: the genesis validators, then the spares (honest nodes outside the genesis set, which changes may add). */
  behaviours: Behaviour[]
  /** Honest validators whose crashes lose the consensus WAL (they count against f: they forget their lock). */
  amnesiac: boolean[]
  heights: number
  /** Virtual ms during which partitions and crashes happen; after it the network heals for good. */
  chaosMs: number
  crashes: { node: number; at: number; downMs: number }[]
  partitions: { at: number; durationMs: number; groups: number[] }[]
  net: { minDelayMs: number; maxDelayMs: number; loss: number; dup: number }
  /** Loss after healing (retransmission still needed). */
  healedLoss: number
  /**
   * Validator-set changes by height of effect (as if block height − 2 returned them from `endBlock`):
   * add a spare, remove a validator (power 0), change a power. Faulty power stays below 1/3 of
   * every height's set.
   */
  changes: { height: number; node: number; power: bigint }[]
}

export function drawScenario(seed: number, overrides: Partial<Pick<Scenario, 'n' | 'heights'>> = {}): Scenario {
  const rng = new Prng(seed)
  const n = overrides.n ?? rng.pick([4, 4, 4, 4, 4, 4, 7, 7, 7, 10])
  const weighted = rng.chance(0.3)
  const powers = Array.from({ length: n }, () => (weighted ? BigInt(rng.int(1, 4)) : 10n))
  const total = powers.reduce((a, b) => a + b, 0n)
  // Faulty validators (byzantine and amnesiac) hold less than 1/3 of the power.
  const order = Array.from({ length: n }, (_, i) => i).sort(() => rng.float() - 0.5)
  const behaviours: Behaviour[] = Array.from({ length: n }, () => 'honest' as Behaviour)
  const amnesiac = Array.from({ length: n }, () => false)
  let faultyPower = 0n
  const wantByz = rng.int(0, Math.floor((n - 1) / 3))
  let byz = 0
  for (const i of order) {
    const p = powers[i] as bigint
    if ((faultyPower + p) * 3n >= total) continue
    if (byz < wantByz) {
      behaviours[i] = rng.pick(BYZANTINE_BEHAVIOURS)
      byz++
      faultyPower += p
    } else if (rng.chance(0.3)) {
      amnesiac[i] = true
      faultyPower += p
    }
  }
  const chaosMs = rng.chance(0.2) ? 0 : rng.int(1_000, 15_000)
  const crashes: Scenario['crashes'] = []
  const partitions: Scenario['partitions'] = []
  if (chaosMs > 0) {
    const nCrashes = rng.int(0, 3)
    for (let k = 0; k < nCrashes; k++) {
      const node = rng.int(0, n - 1)
      if (behaviours[node] !== 'honest') continue
      const at = rng.int(0, chaosMs - 1)
      crashes.push({ node, at, downMs: rng.int(100, 8_000) })
    }
    const nParts = rng.int(0, 2)
    for (let k = 0; k < nParts; k++) {
      const groups = Array.from({ length: n }, () => rng.int(0, 1))
      partitions.push({ at: rng.int(0, chaosMs - 1), durationMs: rng.int(300, 8_000), groups })
    }
  }
  const maxDelayMs = rng.pick([20, 50, 150, 400])
  const heights = overrides.heights ?? 5
  const net = { minDelayMs: 1, maxDelayMs, loss: rng.pick([0, 0, 0.05, 0.2]), dup: rng.pick([0, 0.05, 0.2]) }
  const healedLoss = rng.pick([0, 0, 0.05])
  // Drawn last, so the draws above stay what they were for a seed.
  const changes = drawChanges(rng, powers, behaviours, amnesiac, heights, weighted)
  return { seed, n, powers, behaviours, amnesiac, heights, chaosMs, crashes, partitions, net, healedLoss, changes }
}

/**
 * Validator-set changes for about half the seeds: at some heights of effect (3 up to one past the
 * last height), one or two of: a spare joins, a validator leaves, a power changes. A change is
 * kept only when the set stays non-empty and its faulty members (byzantine or amnesiac) keep less
 * than 1/3 of the power. Spares are appended to `behaviours` and `amnesiac` (honest, whole WAL).
 */
function drawChanges(
  rng: Prng,
  powers: bigint[],
  behaviours: Behaviour[],
  amnesiac: boolean[],
  heights: number,
  weighted: boolean,
): Scenario['changes'] {
  if (!rng.chance(0.5)) return []
  const spares = rng.int(0, 2)
  for (let k = 0; k < spares; k++) {
    behaviours.push('honest')
    amnesiac.push(false)
  }
  const power = new Map<number, bigint>(powers.map((p, i) => [i, p]))
  const faulty = (i: number) => behaviours[i] !== 'honest' || amnesiac[i] === true
  const safe = (m: Map<number, bigint>): boolean => {
    let total = 0n
    let bad = 0n
    for (const [i, p] of m) {
      total += p
      if (faulty(i)) bad += p
    }
    return m.size > 0 && bad * 3n < total
  }
  const drawPower = () => (weighted ? BigInt(rng.int(1, 4)) : rng.pick([5n, 10n, 20n]))
  const changes: Scenario['changes'] = []
  for (let height = 3; height <= heights + 1; height++) {
    if (!rng.chance(0.4)) continue
    const ops = rng.int(1, 2)
    const touched = new Set<number>()
    for (let k = 0; k < ops; k++) {
      const node = rng.int(0, behaviours.length - 1)
      if (touched.has(node)) continue
      const next = new Map(power)
      let p: bigint
      if (!power.has(node)) p = drawPower()
      else if (rng.chance(0.5)) p = 0n
      else p = drawPower()
      if (p === 0n) next.delete(node)
      else next.set(node, p)
      if (!safe(next)) continue
      touched.add(node)
      power.clear()
      for (const [i, q] of next) power.set(i, q)
      changes.push({ height, node, power: p })
    }
  }
  return changes
}
