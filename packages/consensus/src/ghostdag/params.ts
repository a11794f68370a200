/**
 * GhostDAG's K from the block rate and the network delay bound: the least K such that an honest
 * block's anticone exceeds K with probability below `delta` — the PHANTOM paper's bound (section
 * 4.2, eq. 1): anticone sizes are at most Poisson(2Dλ), so K is the least k with
 * P(Poisson(2Dλ) > k) < δ. With Kaspa's D = 5 s and δ = 0.01 this gives Kaspa's table (18 at 1
 * block a second, 124 at 10).
 */
export interface KBoundParams {
  /** λ: blocks mined per second. */
  blocksPerSecond: number
  /** D: the bound on the time a block takes to reach every honest miner, in seconds. */
  networkDelaySeconds: number
  /** δ: the probability allowed for an honest block's anticone to exceed K. */
  delta: number
}

/** Kaspa's choice: D = 5 s, δ = 0.01. */
export const KASPA_K_BOUND = { networkDelaySeconds: 5, delta: 0.01 } as const

export function ghostdagK(p: KBoundParams): number {
  const x = 2 * p.networkDelaySeconds * p.blocksPerSecond
  if (!(x > 0 && Number.isFinite(x))) throw new RangeError('block rate and delay must be positive')
  if (!(p.delta > 0 && p.delta < 1)) throw new RangeError('delta must be in (0, 1)')
  // Σ_{j ≤ k} e^-x x^j / j!, term by term, until the tail is below δ.
  let k = 0
  let term = Math.exp(-x)
  let cdf = term
  while (1 - cdf >= p.delta) {
    k++
    term *= x / k
    cdf += term
  }
  return k
}

/**
 * The paper's bound the other way round: for a K, the probability P(Poisson(2Dλ) > K) that an
 * honest block's anticone exceeds K — the share of honest blocks that may turn red while the
 * delay stays under D. `ghostdagK` is the least K for which this is below δ.
 */
export function ghostdagDelta(p: { blocksPerSecond: number; networkDelaySeconds: number; k: number }): number {
  const x = 2 * p.networkDelaySeconds * p.blocksPerSecond
  if (!(x > 0 && Number.isFinite(x))) throw new RangeError('block rate and delay must be positive')
  let term = Math.exp(-x)
  let cdf = term
  for (let j = 1; j <= p.k; j++) {
    term *= x / j
    cdf += term
  }
  return Math.max(0, 1 - cdf)
}

/** Kaspa's derived limits: parents per block (K/2 within [10, 16]) and mergeset size (2K within [180, 512]). */
export function kaspaLimits(k: number): { maxParents: number; mergesetSizeLimit: number } {
  return {
    maxParents: Math.min(16, Math.max(10, Math.floor(k / 2))),
    mergesetSizeLimit: Math.min(512, Math.max(180, 2 * k)),
  }
}
