// Execution in GhostDAG order (execution.ts, virtual-chain.ts): a hand-made DAG where parallel
// blocks carry the same and conflicting transfers, and random DAGs (seeded) where the executor,
// moved to the sink after every block (rolling back on every chain change), must end exactly as a
// reference that orders each chain block's mergeset from walked pasts and executes once from scratch.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashFromTestId } from '../../src/ghostdag/hash.ts'
import {
  type AccountState,
  accountRules,
  BlockDag,
  type BlockHash,
  type ChainBlockAcceptance,
  compareSortable,
  consensusOrderedMergeset,
  DagExecutor,
  GhostdagErrorCode,
  MemoryDagStore,
  MemoryReachabilityStore,
  selectedChain,
  type Transfer,
} from '../../src/ghostdag/index.ts'
import { buildRandomDag, randomDagArb } from './random-dag.ts'
import { referencePasts } from './reference.ts'

const h = hashFromTestId

function fresh(k: number, genesis: BlockHash) {
  const store = new MemoryDagStore()
  const bd = new BlockDag({ k, genesis }, { store, reachability: new MemoryReachabilityStore() })
  return { bd, store }
}

function executor(
  bd: BlockDag,
  store: MemoryDagStore,
  txs: Map<BlockHash, Transfer[]>,
  state: AccountState,
  retainDepth?: number,
) {
  return new DagExecutor(
    { genesis: bd.ghostdag.genesis, genesisState: state, retainDepth },
    { ghostdag: store, reachability: bd.reachability, transactions: (b) => txs.get(b) ?? [], rules: accountRules },
  )
}

const t = (id: string, from: string, to: string, nonce: number, value: bigint): Transfer => ({
  id,
  from,
  to,
  nonce,
  value,
})

describe('execution in GhostDAG order: a hand-made DAG', () => {
  // G ← A, G ← B, G ← R1 ← R2, and C merging A, B and R2. With K = 1, R2 (the most blue work) is
  // C's selected parent and A and B are red: each has R1 and R2 in its anticone.
  const setup = () => {
    const { bd, store } = fresh(1, h('G'))
    const txs = new Map<BlockHash, Transfer[]>()
    const alicePaysBob = t('pay', 'alice', 'bob', 0, 60n)
    txs.set(h('A'), [alicePaysBob])
    // The same transfer again, a conflicting one (alice's nonce 0 to carol), bob spending what he
    // got, and alice spending more than she will have left.
    txs.set(h('B'), [
      alicePaysBob,
      t('conflict', 'alice', 'carol', 0, 10n),
      t('bob1', 'bob', 'carol', 0, 50n),
      t('overspend', 'alice', 'dave', 1, 100n),
    ])
    // Alice's nonce 1 before her nonce 0 is executed: a gap, twice.
    txs.set(h('R1'), [t('early', 'alice', 'dave', 1, 1n)])
    txs.set(h('R2'), [t('alice1', 'alice', 'dave', 1, 40n)])
    for (const [id, parents] of [
      ['A', ['G']],
      ['B', ['G']],
      ['R1', ['G']],
      ['R2', ['R1']],
    ] as const) {
      bd.addBlock(h(id), parents.map(h), 1n)
    }
    bd.addBlock(h('C'), [h('A'), h('B'), h('R2')], 1n)
    const state: AccountState = new Map([['alice', { nonce: 0, balance: 100n }]])
    return { bd, store, txs, ex: executor(bd, store, txs, state) }
  }

  it("orders the mergeset as Kaspa does and skips what was executed or spent, keeping reds' transactions", () => {
    const { bd, store, ex } = setup()
    const c = bd.get(h('C'))!
    expect(c.selectedParent).toBe(h('R2'))
    expect(c.mergesetBlues).toEqual([h('R2')])
    expect(c.mergesetReds).toEqual([h('A'), h('B')])
    // The selected parent first, then ascending (blue work, hash): A and B have blue work 1 each.
    expect(consensusOrderedMergeset(store, c)).toEqual([h('R2'), h('A'), h('B')])
    const update = ex.moveTo(bd.sink)
    expect(update.removed).toEqual([])
    expect(update.added.map((a) => a.chainBlock)).toEqual([h('R1'), h('R2'), h('C')])
    // R1 accepts the genesis's (none); R2 accepts R1's, its selected parent's.
    expect(ex.acceptance(h('R1'))!.txs).toEqual([])
    expect(ex.acceptance(h('R2'))!.txs.map((x) => [x.tx.id, x.outcome])).toEqual([
      ['early', { applied: false, reason: 'nonce-gap' }],
    ])
    // C accepts R2's transactions, then the red A's and B's, in that order, skipping rather than failing.
    const name = (b: BlockHash) => (b === h('A') ? 'A' : b === h('B') ? 'B' : 'R2')
    expect(ex.acceptance(h('C'))!.txs.map((x) => [`${x.tx.id}@${name(x.block)}#${x.index}`, x.outcome])).toEqual([
      ['alice1@R2#0', { applied: false, reason: 'nonce-gap' }],
      ['pay@A#0', { applied: true }],
      ['pay@B#0', { applied: false, reason: 'nonce-used' }],
      ['conflict@B#1', { applied: false, reason: 'nonce-used' }],
      ['bob1@B#2', { applied: true }],
      ['overspend@B#3', { applied: false, reason: 'insufficient-funds' }],
    ])
    expect(ex.state.get('alice')).toEqual({ nonce: 1, balance: 40n })
    expect(ex.state.get('bob')).toEqual({ nonce: 1, balance: 10n })
    expect(ex.state.get('carol')).toEqual({ nonce: 0, balance: 50n })
    expect(ex.state.get('dave')).toBeUndefined()
  })

  it('rolls back to the common chain ancestor when the sink moves, and refuses to go below retainDepth', () => {
    const { bd, store, txs } = setup()
    const state: AccountState = new Map([['alice', { nonce: 0, balance: 100n }]])
    const ex = executor(bd, store, txs, state)
    ex.moveTo(h('A'))
    expect(ex.chain).toEqual([h('G'), h('A')])
    ex.moveTo(h('B'))
    expect(ex.chain).toEqual([h('G'), h('B')])
    const u = ex.moveTo(h('C'))
    expect(u.commonAncestor).toBe(h('G'))
    expect(u.removed.map((a) => a.chainBlock)).toEqual([h('B')])
    expect(ex.acceptance(h('B'))).toBeUndefined()
    // The genesis state is untouched by all of it.
    expect(state).toEqual(new Map([['alice', { nonce: 0, balance: 100n }]]))
    const shallow = executor(bd, store, txs, new Map(), 1)
    shallow.moveTo(h('C'))
    expect(shallow.stateAt(h('R2'))).toBeDefined()
    expect(shallow.stateAt(h('R1'))).toBeUndefined()
    expect(() => shallow.moveTo(h('A'))).toThrow(
      expect.objectContaining({ code: GhostdagErrorCode.FINALITY_VIOLATION }),
    )
    expect(shallow.chain).toEqual([h('G'), h('R1'), h('R2'), h('C')])
  })

  it('the genesis alone executes nothing', () => {
    const { bd, store } = fresh(3, h('G'))
    expect(consensusOrderedMergeset(store, bd.get(h('G'))!)).toEqual([])
    expect(selectedChain(store, h('G'))).toEqual([h('G')])
  })
})

const ACCOUNTS = ['a', 'b', 'c', 'd']

describe('execution in GhostDAG order: random DAGs against a reference', () => {
  it('moving to the sink after every block ends as one execution of the walked order, each block accepted once', () => {
    let rolledBack = 0
    fc.assert(
      fc.property(
        randomDagArb({ maxBlocks: 45, maxDelay: 6, maxK: 3, variedWork: true }),
        fc.array(
          fc.record({
            from: fc.nat(3),
            to: fc.nat(3),
            nonce: fc.nat(4),
            value: fc.integer({ min: 0, max: 40 }),
          }),
          { minLength: 0, maxLength: 120 },
        ),
        (spec, rawTxs) => {
          const dag = buildRandomDag(spec)
          const { bd, store } = fresh(dag.k, dag.genesis)
          // Transfers dealt to blocks in turn; some repeated in a later block (as parallel miners do).
          const txs = new Map<BlockHash, Transfer[]>()
          rawTxs.forEach((r, i) => {
            const tx = t(`tx${i}`, ACCOUNTS[r.from]!, ACCOUNTS[r.to]!, r.nonce, BigInt(r.value))
            const block = dag.blocks[i % dag.blocks.length]!.hash
            txs.set(block, [...(txs.get(block) ?? []), tx])
            if (i % 3 === 0) {
              const again = dag.blocks[(i * 7 + 1) % dag.blocks.length]!.hash
              txs.set(again, [...(txs.get(again) ?? []), tx])
            }
          })
          const genesisState = (): AccountState => new Map(ACCOUNTS.map((a) => [a, { nonce: 0, balance: 50n }]))
          const live = executor(bd, store, txs, genesisState())
          for (const b of dag.blocks) {
            bd.addBlock(b.hash, b.parents, b.work)
            const before = [...live.chain]
            const u = live.moveTo(bd.sink)
            rolledBack += u.removed.length
            // The update is the chain change: removed from the top, added up to the new sink.
            expect([...before.slice(0, before.length - u.removed.length), ...u.added.map((a) => a.chainBlock)]).toEqual(
              live.chain,
            )
          }
          // Reference: the chain by selected parents, each chain block's mergeset from walked pasts.
          const pasts = referencePasts(dag)
          const chain = selectedChain(store, bd.sink)
          expect(live.chain).toEqual(chain)
          const state = genesisState()
          const seen = new Set<BlockHash>()
          for (const c of chain.slice(1)) {
            const sp = bd.get(c)!.selectedParent
            const merged = [...pasts.get(c)!].filter((x) => x !== sp && !pasts.get(sp)!.has(x))
            merged.sort((x, y) =>
              compareSortable({ hash: x, blueWork: bd.get(x)!.blueWork }, { hash: y, blueWork: bd.get(y)!.blueWork }),
            )
            const mergeset = [sp, ...merged]
            const acc: ChainBlockAcceptance<Transfer> = live.acceptance(c)!
            expect(acc.mergeset).toEqual(mergeset)
            const want = mergeset.flatMap((blk) =>
              (txs.get(blk) ?? []).map((tx, index) => ({
                tx,
                block: blk,
                index,
                outcome: accountRules.apply(state, tx, { chainBlock: c, block: blk }),
              })),
            )
            expect(acc.txs).toEqual(want)
            for (const x of mergeset) {
              expect(seen.has(x)).toBe(false)
              seen.add(x)
            }
            expect(live.stateAt(c)).toEqual(state)
          }
          // The mergesets down the chain partition the sink's past.
          expect(seen).toEqual(pasts.get(bd.sink)!)
          // No transaction applied twice.
          const applied = chain.slice(1).flatMap((c) => live.acceptance(c)!.txs.filter((x) => x.outcome.applied))
          expect(new Set(applied.map((x) => x.tx.id)).size).toBe(applied.length)
        },
      ),
      { seed: 0x47d, numRuns: 120 },
    )
    // The runs did roll back: chain changes below the tip happened.
    expect(rolledBack).toBeGreaterThan(50)
  })
})
