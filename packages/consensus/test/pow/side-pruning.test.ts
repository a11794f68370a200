// Side blocks older than the reorg limit are deleted as the head moves on (with a metric); the
// canonical chain and a refused heavier branch (which accept-branch may still take) stay.
import { afterEach, describe, expect, it } from 'vitest'
import { mineVia, type PowSetup, powSetup, stopAllPow } from './pow-setup.ts'

afterEach(stopAllPow)

async function mineN(s: PowSetup, n: number) {
  const out = []
  for (let i = 0; i < n; i++) out.push(await mineVia(s))
  return out
}

/** Waits for the engine's pruning (started at each new head) and returns the metric's value. */
async function pruned(s: PowSetup): Promise<number> {
  await s.engine.sidePruner.prune(s.chain, s.chain.head.header.number)
  const m = /cairn_pow_side_blocks_pruned_total (\d+)/.exec(await s.registry.metrics())
  return Number(m?.[1])
}

describe('PoW engine: pruning side blocks', () => {
  it('deletes a side block once the head is more than the limit above it, and keeps the canonical chain', async () => {
    const a = await powSetup({ maxReorgDepth: 2 })
    const b = await powSetup({ extraData: new TextEncoder().encode('branch b') })
    const [a1] = await mineN(a, 1)
    const [b1] = await mineN(b, 1)
    a.clock.now = b.clock.now
    const r = await a.chain.processBlock(b1!.serialize(), { source: 'gossip', peer: 'b' })
    expect(r.status).toBe('imported')
    expect(a.chain.head.hash()).toEqual(a1!.hash()) // a tie: the first seen stays
    expect(await a.chain.getBlock(b1!.hash())).toBeDefined()
    await mineN(a, 1) // head 2: a branch through b1 (forking at 0) reverts 2 blocks, the limit
    expect(await pruned(a)).toBe(0)
    expect(await a.chain.getBlock(b1!.hash())).toBeDefined()
    await mineN(a, 1) // head 3: it would revert 3
    expect(await pruned(a)).toBe(1)
    expect(await a.chain.getBlock(b1!.hash())).toBeUndefined()
    expect(await a.chain.getHeader(b1!.hash())).toBeUndefined()
    expect(await a.chain.getBlockNumber(b1!.hash())).toBeUndefined()
    // the canonical chain is whole
    for (let n = 0n; n <= 3n; n++) expect(await a.chain.getBlockByNumber(n)).toBeDefined()
    expect(await a.chain.getBlock(a1!.hash())).toBeDefined()
    // a pruned block sent again is imported again as a side block (nothing refuses it)
    const again = await a.chain.processBlock(b1!.serialize(), { source: 'gossip', peer: 'b' })
    expect(again.status).toBe('imported')
    expect(a.chain.head.header.number).toBe(3n)
  })

  it('keeps a heavier branch the limit refused, which accept-branch can still take', async () => {
    const a = await powSetup({ maxReorgDepth: 2 })
    const b = await powSetup({ extraData: new TextEncoder().encode('branch b') })
    await mineN(a, 3)
    const branch = await mineN(b, 4)
    a.clock.now = b.clock.now
    for (const blk of branch) await a.chain.processBlock(blk.serialize(), { source: 'gossip', peer: 'b' })
    expect(await a.registry.metrics()).toContain('cairn_pow_reorgs_refused_total 1')
    await mineN(a, 6)
    expect(await pruned(a)).toBe(0)
    for (const blk of branch) expect(await a.chain.getBlock(blk.hash())).toBeDefined()
  })
})
