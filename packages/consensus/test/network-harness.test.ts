import { BlockErrorCode, ChainErrorCode, createChainMetrics } from '@cairn/chain'
import type { Hex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { KEYS, tamper, transfer } from '../../chain/test/helpers.ts'
import { recordExecutions } from './harness/chain-probes.ts'
import { Harness, type HarnessNode } from './harness/network.ts'

const [K0, K1] = KEYS as [Uint8Array, Uint8Array]
const X = '0x00000000000000000000000000000000000000aa' as Hex

describe('in-process network harness (MemoryKV chains, in-memory transport, injected clock)', () => {
  it('two dev producers fork on a partition and converge after healing, by fork choice; the loser re-pools its transactions', async () => {
    const h = await Harness.create({ nodes: 2 })
    const [n0, n1] = h.nodes as [HarnessNode, HarnessNode]
    await h.produce(0)
    await h.run()
    expect(h.head(1)).toBe(h.head(0))

    h.partition([0], [1])
    // Node 0's side holds a transaction node 1 never sees.
    const lonely = transfer(n0.chain.common, K0, 0n, X, 7n)
    await h.submit(0, lonely)
    h.clock.advance(1000)
    await h.produce(0)
    h.clock.advance(1000)
    await h.produce(0)
    for (let i = 0; i < 3; i++) {
      h.clock.advance(1000)
      await h.produce(1)
    }
    await h.run()
    expect(n0.chain.head.header.number).toBe(3n)
    expect(n1.chain.head.header.number).toBe(4n)
    expect(h.head(0)).not.toBe(h.head(1))
    expect(n0.pool.get(lonely.hash())).toBeUndefined()

    h.heal()
    const reorgs: number[] = []
    n0.chain.events.on('reorg', (r) => reorgs.push(r.removed.length))
    h.clock.advance(1000)
    await h.produce(1)
    await h.run()
    expect(h.head(0)).toBe(h.head(1))
    expect(n0.chain.head.header.number).toBe(5n)
    expect(reorgs).toEqual([2])
    // The reorg took node 0's branch off the chain: its transaction is pending again.
    expect(n0.pool.get(lonely.hash())).toBeDefined()
    // And the next block, from either producer, carries it to both.
    h.clock.advance(1000)
    const next = await h.produce(0)
    await h.run()
    expect(next.transactions.map((t) => t.hash())).toContainEqual(lonely.hash())
    expect(h.head(1)).toBe(h.head(0))
    expect(n1.pool.get(lonely.hash())).toBeUndefined()
  })

  it('a node fed the blocks out of order imports them all through the orphan pool', async () => {
    // Node 1's orphan pool is read from its chain metrics (`cairn_block_orphans`).
    const registry = new Registry()
    const h = await Harness.create({
      nodes: 2,
      fetchParents: false,
      chainMetrics: (i) => (i === 1 ? createChainMetrics(registry) : null),
    })
    const [n0, n1] = h.nodes as [HarnessNode, HarnessNode]
    h.partition([0], [1])
    const blocks: Block[] = []
    for (let i = 0; i < 6; i++) {
      h.clock.advance(1000)
      await h.submit(0, transfer(n0.chain.common, K1, BigInt(i), X, 1n))
      blocks.push(await h.produce(0))
    }
    await h.run()
    expect(n1.chain.head.header.number).toBe(0n)
    h.heal()
    // Delivered newest first: each waits for its parent.
    for (const [i, b] of blocks.entries()) {
      h.send(0, 1, { kind: 'block', bytes: b.serialize() }, 100 * (blocks.length - i))
    }
    await h.run()
    expect(n1.received.map((r) => r.result.status)).toEqual([
      'unknownParent',
      'unknownParent',
      'unknownParent',
      'unknownParent',
      'unknownParent',
      'imported',
    ])
    expect(h.head(1)).toBe(h.head(0))
    const orphans = await registry.getSingleMetric('cairn_block_orphans')?.get()
    expect(orphans?.values).toEqual([{ value: 0, labels: {} }])
    expect(n1.penalties.size).toBe(0)
  })

  it('a bad block is refused once, cached, and its descendants refused without execution; its sender is penalized', async () => {
    const h = await Harness.create({ nodes: 2 })
    const n1 = h.nodes[1] as HarnessNode
    h.partition([0], [1])
    h.clock.advance(1000)
    const good = await h.produce(0)
    h.clock.advance(1000)
    const next = await h.produce(0)
    h.heal()
    // A byzantine node 0 sends block 1 with a wrong state root, then a child of it.
    const bad = tamper(good, good.common, { stateRoot: new Uint8Array(32).fill(9) })
    const child = tamper(next, next.common, { parentHash: bad.hash() })
    const executed = recordExecutions(n1.chain)
    h.send(0, 1, { kind: 'block', bytes: bad.serialize() })
    h.send(0, 1, { kind: 'block', bytes: child.serialize() }, 60)
    h.send(0, 1, { kind: 'block', bytes: bad.serialize() }, 70)
    await h.run()
    const codes = n1.received.map((r) => (r.result.status === 'error' ? r.result.error.code : r.result.status))
    expect(codes).toEqual([ChainErrorCode.EXECUTION_MISMATCH, BlockErrorCode.BAD_ANCESTOR, BlockErrorCode.KNOWN_BAD])
    expect(executed).toHaveLength(1)
    expect(n1.penalties.get(0)).toBe(3)
    expect(n1.chain.head.header.number).toBe(0n)
    // The honest blocks still get in.
    h.send(0, 1, { kind: 'block', bytes: next.serialize() })
    await h.run()
    expect(h.head(1)).toBe(h.head(0))
  })

  it('loss and partitions drop messages deterministically (seeded)', async () => {
    const h = await Harness.create({ nodes: 3, loss: 1 })
    await h.produce(0)
    await h.run()
    expect(h.stats.delivered).toBe(0)
    expect(h.stats.dropped).toBe(h.stats.sent)
    expect((h.nodes[1] as HarnessNode).chain.head.header.number).toBe(0n)
  })
})
