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
  n: number
  powers: bigint[]
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
  return {
    seed,
    n,
    powers,
    behaviours,
    amnesiac,
    heights: overrides.heights ?? 5,
    chaosMs,
    crashes,
    partitions,
    net: { minDelayMs: 1, maxDelayMs, loss: rng.pick([0, 0, 0.05, 0.2]), dup: rng.pick([0, 0.05, 0.2]) },
    healedLoss: rng.pick([0, 0, 0.05]),
  }
}
