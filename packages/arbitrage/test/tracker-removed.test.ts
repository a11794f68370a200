// The tracker's subscription-side signals against a scripted chain (no sockets): blocks a removed
// log names are undone from the journal before the node's new branch is read, notes about blocks
// the tracker never applied change nothing, and a requested reconcile repairs reserves that logs
// alone would never fix.
import { silentLogger } from '@cairn/utils'
import type { Hex, PublicClient } from 'viem'
import { describe, expect, it } from 'vitest'
import { type Address, TokenGraph } from '../src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../src/math/v2.ts'
import { PoolTracker } from '../src/pools/tracker.ts'

const FACTORY = `0x${'f'.repeat(40)}` as Address
const POOL = `0x${'a'.repeat(40)}` as Address
const T0 = `0x${'1'.repeat(40)}` as Address
const T1 = `0x${'2'.repeat(40)}` as Address

type FakeLog =
  | { kind: 'created' }
  | {
      kind: 'sync'
      r0: bigint
      r1: bigint
    }
interface FakeBlock {
  number: bigint
  hash: Hex
  parentHash: Hex
  logs: FakeLog[]
}

const hash = (tag: string) => `0x${tag.padStart(64, '0')}` as Hex

/** A scripted chain: the canonical blocks, what each getReserves answers, and the calls made. */
class FakeChain {
  blocks: FakeBlock[] = []
  reserves: [bigint, bigint] = [0n, 0n]
  calls: string[] = []

  push(tag: string, logs: FakeLog[]): FakeBlock {
    const parent = this.blocks.at(-1)
    const b = { number: BigInt(this.blocks.length), hash: hash(tag), parentHash: parent?.hash ?? hash('0'), logs }
    this.blocks.push(b)
    for (const l of logs) if (l.kind === 'sync') this.reserves = [l.r0, l.r1]
    return b
  }

  /** Drops blocks from `n` up (a revert); reserves as of the new head. */
  truncate(n: number): void {
    this.blocks.length = n
    this.reserves = [0n, 0n]
    for (const b of this.blocks) for (const l of b.logs) if (l.kind === 'sync') this.reserves = [l.r0, l.r1]
  }

  client(): PublicClient {
    const view = (b: FakeBlock) => ({ number: b.number, hash: b.hash, parentHash: b.parentHash })
    const asLog = (l: FakeLog) =>
      l.kind === 'created'
        ? { address: FACTORY, eventName: 'PairCreated', args: { token0: T0, token1: T1, pair: POOL, count: 1n } }
        : { address: POOL, eventName: 'Sync', args: { reserve0: l.r0, reserve1: l.r1 } }
    return {
      getBlockNumber: async () => {
        this.calls.push('blockNumber')
        return BigInt(this.blocks.length - 1)
      },
      getBlock: async (a: { blockTag?: string; blockNumber?: bigint }) => {
        const b = a.blockTag === 'latest' ? this.blocks.at(-1)! : this.blocks[Number(a.blockNumber)]!
        this.calls.push(`block ${b.number}`)
        return view(b)
      },
      getLogs: async (a: { blockHash?: Hex; fromBlock?: bigint; toBlock?: bigint }) => {
        if (a.blockHash) {
          this.calls.push(`logs ${a.blockHash}`)
          return this.blocks.find((b) => b.hash === a.blockHash)!.logs.map(asLog)
        }
        return this.blocks
          .filter((b) => b.number >= a.fromBlock! && b.number <= a.toBlock!)
          .flatMap((b) => b.logs.filter((l) => l.kind === 'created').map(asLog))
      },
      readContract: async () => {
        this.calls.push('getReserves')
        return [...this.reserves, 0]
      },
    } as unknown as PublicClient
  }
}

async function setup() {
  const chain = new FakeChain()
  chain.push('g', [])
  chain.push('b1', [{ kind: 'created' }, { kind: 'sync', r0: 100n, r1: 200n }])
  const graph = new TokenGraph({ base: T0, maxHops: 3 })
  const tracker = new PoolTracker(
    { factories: [{ address: FACTORY, fee: UNISWAP_V2_FEE }] },
    { client: chain.client(), graph, logger: silentLogger },
  )
  await tracker.start()
  const reservesOf = () => {
    const p = graph.pool(POOL)!
    return [p.reserve0, p.reserve1]
  }
  return { chain, graph, tracker, reservesOf }
}

describe('pool tracker: removed logs and reconcile requests', () => {
  it('undoes the blocks a removed log names (and those above) before reading the new branch', async () => {
    const { chain, tracker, reservesOf } = await setup()
    const b2 = chain.push('b2', [{ kind: 'sync', r0: 150n, r1: 180n }])
    const b3 = chain.push('b3', [{ kind: 'sync', r0: 90n, r1: 300n }])
    await tracker.poll()
    expect(reservesOf()).toEqual([90n, 300n])

    // the node replaces blocks 2 and 3 by one block 2'; the subscription reports 3's and 2's logs removed
    chain.truncate(2)
    chain.push('b2x', [{ kind: 'sync', r0: 120n, r1: 170n }])
    tracker.noteRemoved(b3.number, b3.hash)
    tracker.noteRemoved(b2.number, b2.hash)
    chain.calls = []
    const updates = await tracker.poll()
    // undone from the journal: only block 1 was compared, then 2' read; blocks 2 and 3 never asked for
    expect(chain.calls).toEqual(['blockNumber', 'block 1', 'block 2', `logs ${hash('b2x')}`])
    expect(updates).toHaveLength(1)
    expect(updates[0]!.reorgDepth).toBe(2)
    expect(updates[0]!.hash).toBe(hash('b2x'))
    expect(updates[0]!.changed.has(POOL)).toBe(true)
    expect(reservesOf()).toEqual([120n, 170n])
  })

  it('a revert with no new block yet: the update reports the undo and the reserves of the ancestor', async () => {
    const { chain, tracker, reservesOf } = await setup()
    const b2 = chain.push('b2', [{ kind: 'sync', r0: 150n, r1: 180n }])
    await tracker.poll()
    chain.truncate(2)
    tracker.noteRemoved(b2.number, b2.hash)
    const updates = await tracker.poll()
    expect(updates).toHaveLength(1)
    expect(updates[0]!.number).toBe(1n)
    expect(updates[0]!.reorgDepth).toBe(1)
    expect(updates[0]!.changed.has(POOL)).toBe(true)
    expect(reservesOf()).toEqual([100n, 200n])
    expect(tracker.head!.hash).toBe(hash('b1'))
  })

  it('ignores removed logs of blocks it never applied (or already left)', async () => {
    const { chain, tracker, reservesOf } = await setup()
    chain.push('b2', [{ kind: 'sync', r0: 150n, r1: 180n }])
    await tracker.poll()
    tracker.noteRemoved(2n, hash('other'))
    tracker.noteRemoved(9n, hash('future'))
    const updates = await tracker.poll()
    expect(updates).toEqual([])
    expect(reservesOf()).toEqual([150n, 180n])
  })

  it('a requested reconcile reads getReserves and reports the pools that were wrong', async () => {
    const { chain, graph, tracker, reservesOf } = await setup()
    graph.setReserves(POOL, 1n, 2n) // as a lost notification could leave it
    expect(await tracker.poll()).toEqual([]) // logs alone never fix it
    expect(reservesOf()).toEqual([1n, 2n])
    tracker.requestReconcile()
    chain.calls = []
    const updates = await tracker.poll()
    expect(chain.calls).toContain('getReserves')
    expect(updates).toHaveLength(1)
    expect([...updates[0]!.changed]).toEqual([POOL])
    expect(reservesOf()).toEqual([100n, 200n])
    // once: the next poll reads nothing more
    chain.calls = []
    await tracker.poll()
    expect(chain.calls).not.toContain('getReserves')
  })
})
