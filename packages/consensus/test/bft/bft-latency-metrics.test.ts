/** The proposal and vote latency histograms on the in-process network (a manual clock, 20 ms delivery). */
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { createBftMetrics } from '../../src/index.ts'
import { BftNetwork } from '../harness/bft-network.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

interface Sample {
  labels: Record<string, string | number>
  value: number
  metricName?: string
}

async function histogram(reg: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = reg.getSingleMetric(name)
  const values = ((await metric?.get())?.values ?? []) as Sample[]
  const match = (s: Sample) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  const get = (suffix: string) => values.find((s) => s.metricName === `${name}${suffix}` && match(s))?.value ?? 0
  const le = (bound: number) =>
    values.find((s) => s.metricName === `${name}_bucket` && match(s) && s.labels.le === bound)?.value ?? 0
  return { count: get('_count'), sum: get('_sum'), le }
}

describe('BFT proposal and vote latency metrics', () => {
  it('measure from entering the round to the arrival of its proposal and votes (delivery 20 ms)', async () => {
    const registries = Array.from({ length: 4 }, () => new Registry())
    net = await BftNetwork.create({
      validators: 4,
      delayMs: 20,
      metrics: (i) => createBftMetrics(registries[i] as Registry),
    })
    await net.start()
    expect(await net.runUntil(() => (net as BftNetwork).nodes.every((n) => n.chain.head.header.number >= 6n))).toBe(
      true,
    )
    const reg = registries[0] as Registry
    const proposal = await histogram(reg, 'cairn_bft_proposal_receive_seconds')
    const prevote = await histogram(reg, 'cairn_bft_vote_receive_seconds', { type: 'prevote' })
    const precommit = await histogram(reg, 'cairn_bft_vote_receive_seconds', { type: 'precommit' })
    // Proposals from the others' rounds (node 0 proposes some heights itself: not measured).
    expect(proposal.count).toBeGreaterThan(0)
    expect(proposal.count).toBeLessThanOrEqual(6)
    // Three peers' votes per height and type, the first copy only.
    expect(prevote.count).toBeGreaterThanOrEqual(3 * 5)
    expect(prevote.count).toBeLessThanOrEqual(3 * 7)
    expect(precommit.count).toBeGreaterThanOrEqual(3 * 5)
    // A proposal is one delivery after the round starts (at most a build in between, on a manual
    // clock: 20 ms); a prevote two (proposal, then the peer's prevote); a precommit three.
    expect(proposal.le(0.025)).toBe(proposal.count)
    expect(prevote.le(0.05)).toBe(prevote.count)
    expect(precommit.le(0.1)).toBe(precommit.count)
    expect(precommit.sum / precommit.count).toBeGreaterThan(prevote.sum / prevote.count)
  }, 60_000)
})
