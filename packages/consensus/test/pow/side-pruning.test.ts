// Side blocks older than the reorg limit are deleted as the head moves on (with a metric); the
// canonical chain and a refused heavier branch (which accept-branch may still take) stay. A branch
// goes whole: its lower blocks stay while newer ones are within the limit, and a block whose
// ancestor was pruned anyway is refused as not found, neither bad nor its sender's fault (before,
// it was refused as leaving the chain below finality: marked bad, its sender penalised, which
// disconnected the peers of a partitioned minority for good in pow-partition.e2e).
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

  it("keeps a branch's lower blocks while it grows within the limit, then prunes it whole", async () => {
    const a = await powSetup({ maxReorgDepth: 2 })
    const b = await powSetup({ extraData: new TextEncoder().encode('branch b') })
    await mineN(a, 2)
    const [b1, b2] = await mineN(b, 2)
    a.clock.now = b.clock.now
    for (const blk of [b1!, b2!]) {
      expect((await a.chain.processBlock(blk.serialize(), { source: 'gossip', peer: 'b' })).status).toBe('imported')
    }
    expect(a.chain.head.header.number).toBe(2n) // ties: the first seen stays
    await mineN(a, 1) // head 3: b1 is more than the limit behind, but b2 (on it) is not
    expect(await pruned(a)).toBe(0)
    expect(await a.chain.getBlock(b1!.hash())).toBeDefined()
    // The branch's next block is a side block like the others (its ancestry is whole).
    const [b3] = await mineN(b, 1)
    a.clock.now = b.clock.now
    const r = await a.chain.processBlock(b3!.serialize(), { source: 'gossip', peer: 'b' })
    expect(r.status === 'error' ? r.error.code : r.status).toBe('imported')
    await mineN(a, 2) // head 5: the whole branch is behind
    expect(await pruned(a)).toBe(3)
    for (const blk of [b1!, b2!, b3!]) expect(await a.chain.getBlock(blk.hash())).toBeUndefined()
  })

  it('a block whose ancestor was pruned is refused as not found: not bad, its sender not to blame', async () => {
    const a = await powSetup({ maxReorgDepth: 1 })
    const b = await powSetup({ extraData: new TextEncoder().encode('branch b') })
    await mineN(a, 2)
    const [b1, b2, b3] = await mineN(b, 3)
    a.clock.now = b.clock.now
    for (const blk of [b1!, b2!]) await a.chain.processBlock(blk.serialize(), { source: 'gossip', peer: 'b' })
    // A hole under a stored block (a prune racing the branch's import).
    expect(await a.chain.pruneSideBlocks([b1!.hash()])).toBe(1)
    const r = await a.chain.processBlock(b3!.serialize(), { source: 'gossip', peer: 'b' })
    expect(r.status).toBe('error')
    if (r.status !== 'error') return
    expect(r.error.code).toBe('CHAIN_BLOCK_NOT_FOUND')
    expect(r.error.penalize).toBe(false)
    expect(r.error.action).toBe('ignore')
    // Not remembered as bad: once the branch is whole again, it imports.
    await a.chain.processBlock(b1!.serialize(), { source: 'gossip', peer: 'b' })
    const again = await a.chain.processBlock(b3!.serialize(), { source: 'gossip', peer: 'b' })
    expect(again.status).toBe('imported')
  })
})
