// DagView (what cairn_getDagInfo and cairn_getBlockDagData answer) and the GhostDAG metrics on a
// hand-made DAG; the simulator checks the view against pasts and blue sets on every node.
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { hashFromTestId as h } from '../../src/ghostdag/hash.ts'
import {
  accountRules,
  BlockDag,
  CHAIN_CHANGE_DEPTH_BUCKETS,
  chainChangeDepthBucket,
  createGhostdagMetrics,
  DagExecutor,
  DagView,
  MemoryDagStore,
  MemoryReachabilityStore,
} from '../../src/ghostdag/index.ts'

async function values(registry: Registry, name: string) {
  return (await registry.getSingleMetric(name)!.get()).values.map((v) => [v.labels, v.value])
}

describe('DagView and the GhostDAG metrics', () => {
  it('export every labelled series at 0 before any block', async () => {
    const registry = new Registry()
    createGhostdagMetrics(registry)
    expect(await values(registry, 'cairn_ghostdag_accepted_blocks')).toEqual([
      [{ color: 'blue' }, 0],
      [{ color: 'red' }, 0],
    ])
    expect(await values(registry, 'cairn_ghostdag_virtual_chain_changes_total')).toEqual(
      CHAIN_CHANGE_DEPTH_BUCKETS.map((depth) => [{ depth }, 0]),
    )
    expect([0, 1, 2, 3, 4, 7, 8, 15, 16, 500].map(chainChangeDepthBucket)).toEqual([
      '0',
      '1',
      '2-3',
      '2-3',
      '4-7',
      '4-7',
      '8-15',
      '8-15',
      '16+',
      '16+',
    ])
  })

  it('answer for the DAG and each block as the executor moves the chain', async () => {
    // G ← A, G ← B, G ← R1 ← R2, C merging A, B, R2 with K = 1: A and B red in C's mergeset.
    const store = new MemoryDagStore()
    const bd = new BlockDag(
      { k: 1, genesis: h('G'), genesisWork: 1n },
      { store, reachability: new MemoryReachabilityStore() },
    )
    const registry = new Registry()
    const view = new DagView({}, { dag: bd, relations: store, metrics: createGhostdagMetrics(registry) })
    const ex = new DagExecutor(
      { genesis: h('G'), genesisState: new Map() },
      { ghostdag: store, reachability: bd.reachability, transactions: () => [], rules: accountRules },
    )
    const add = (id: string, parents: string[]) => {
      bd.addBlock(h(id), parents.map(h), 1n)
      view.blockAdded(h(id))
      view.chainUpdated(ex.moveTo(bd.sink))
    }
    add('A', ['G'])
    expect(view.blockData(h('G'))).toMatchObject({ acceptingBlock: h('A'), color: 'blue', children: [h('A')] })
    add('B', ['G'])
    add('R1', ['G'])
    add('R2', ['R1'])
    add('C', ['A', 'B', 'R2'])
    expect(view.info()).toEqual({
      k: 1,
      tips: [h('C')],
      virtualSelectedParent: h('C'),
      blueScore: 3,
      blueWork: '0x3',
      blockCount: 6,
      chainBlockCount: 3,
      blueBlockCount: 3,
      redBlockCount: 2,
      blueRatio: 0.6,
      daaScore: null,
      appliedTxCount: 0,
    })
    expect(view.blockData(h('C'))).toEqual({
      hash: h('C'),
      parents: [h('R2'), h('A'), h('B')],
      children: [],
      blueScore: 3,
      blueWork: '0x3',
      selectedParent: h('R2'),
      mergesetBlues: [h('R2')],
      mergesetReds: [h('A'), h('B')],
      isChainBlock: true,
      acceptingBlock: null,
      color: null,
    })
    expect(view.blockData(h('A'))).toMatchObject({ isChainBlock: false, acceptingBlock: h('C'), color: 'red' })
    expect(view.blockData(h('R1'))).toMatchObject({ isChainBlock: true, acceptingBlock: h('R2'), color: 'blue' })
    expect(view.blockData(h('G'))).toMatchObject({ acceptingBlock: h('R1'), children: [h('A'), h('B'), h('R1')] })
    expect(view.blockData(h('X'))).toBeUndefined()
    // Chain moves: A (sink), B (rolls A back), R1 (rolls B back), R2, C.
    expect(await values(registry, 'cairn_ghostdag_virtual_chain_changes_total')).toEqual([
      [{ depth: '0' }, 3],
      [{ depth: '1' }, 2],
      [{ depth: '2-3' }, 0],
      [{ depth: '4-7' }, 0],
      [{ depth: '8-15' }, 0],
      [{ depth: '16+' }, 0],
    ])
    expect(await values(registry, 'cairn_ghostdag_accepted_blocks')).toEqual([
      [{ color: 'blue' }, 3],
      [{ color: 'red' }, 2],
    ])
    expect(await values(registry, 'cairn_ghostdag_blocks_total')).toEqual([[{}, 5]])
    expect(await values(registry, 'cairn_ghostdag_tips')).toEqual([[{}, 1]])
    expect(await values(registry, 'cairn_ghostdag_blue_score')).toEqual([[{}, 3]])
  })
})
