/**
 * The block time is an interval, not a wait after each commit: on the in-process network (a manual
 * clock), heights commit `blockTimeMs` apart while consensus takes less than that, and back to back
 * (no wait at all) when it takes more.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { BftNetwork } from '../harness/bft-network.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

/** The virtual time at which node 0's head reached each height, until `heights`. */
async function commitTimes(n: BftNetwork, heights: number): Promise<number[]> {
  const at: number[] = []
  const ok = await n.runUntil(() => {
    const h = Number(n.height(0))
    while (at.length <= h) at.push(n.clock.now())
    return h >= heights
  })
  expect(ok).toBe(true)
  return at
}

const gaps = (at: number[], from: number) => at.slice(from + 1).map((t, i) => t - (at[from + i] as number))

describe('BFT block time', () => {
  it('commits heights blockTimeMs apart when proposing and voting take less (50 ms deliveries, 1 s block time)', async () => {
    net = await BftNetwork.create({ validators: 4, delayMs: 50, blockTimeMs: 1000 })
    await net.start()
    const at = await commitTimes(net, 8)
    // from height 3 on (the first heights start together): a wait after each commit would make
    // each gap 1 s plus a proposal and two rounds of votes (~150 ms)
    for (const gap of gaps(at, 3)) expect(gap).toBe(1000)
  }, 60_000)

  it('commits back to back when a height takes longer than the block time (400 ms deliveries, 500 ms block time)', async () => {
    net = await BftNetwork.create({ validators: 4, delayMs: 400, blockTimeMs: 500 })
    await net.start()
    const at = await commitTimes(net, 6)
    // a proposal and two rounds of votes: 3 deliveries, 1,200 ms; no wait is added on top
    for (const gap of gaps(at, 3)) expect(gap).toBeLessThanOrEqual(1200)
  }, 60_000)
})
