import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { Chain, type ChainEvents, type LogEntry } from '../../src/index.ts'
import {
  ADDRS,
  BH1_ADDR,
  BH2_ADDR,
  balanceAt,
  buildAndImport,
  call,
  contractsGenesis,
  dumpKV,
  importBlock,
  KEYS,
  LOG_ADDR,
  openChain,
  storageAt,
  testEngine,
  transfer,
  word,
} from '../helpers.ts'

const [K0, K1, K2] = KEYS as [Uint8Array, Uint8Array, Uint8Array]
const A2 = ADDRS[2] as Hex
const X = '0x00000000000000000000000000000000000000aa' as Hex
const hex = (b: Block) => bytesToHex(b.hash())
const slot = (n: number) => word(0).map((_, i) => (i === 31 ? n : 0))

type Event = { name: string; payload: unknown }
function record(chain: Chain): Event[] {
  const seen: Event[] = []
  for (const name of ['newHead', 'logs', 'reorg'] as const)
    chain.events.on(name, (payload) => seen.push({ name, payload }))
  return seen
}

/** A compact description of an event, for comparing whole sequences. */
function describeEvent(e: Event): string {
  if (e.name === 'newHead') return `newHead ${(e.payload as ChainEvents['newHead']).block.header.number}`
  if (e.name === 'reorg') return 'reorg'
  const logs = e.payload as LogEntry[]
  return `logs ${logs.map((l) => `${l.blockNumber}:${bytesToHex(l.topics[0] as Uint8Array).slice(-2)}${l.removed ? '-' : '+'}`).join(',')}`
}

describe('reorg onto a longer branch built by another chain', () => {
  let chainA: Chain
  let chainB: Chain
  let kvB: MemoryKV
  let a: Block[]
  let b: Block[]
  let shared: TypedTransaction
  let onlyA: TypedTransaction[]
  let onlyB: TypedTransaction[]

  beforeEach(async () => {
    chainA = await openChain(new MemoryKV(), contractsGenesis())
    kvB = new MemoryKV()
    chainB = await openChain(kvB, contractsGenesis())
    const c = chainA.common
    shared = transfer(c, K2, 0n, X, 1000n) // in both branches
    onlyA = [call(c, K0, 0n, LOG_ADDR, word(0xa1)), transfer(c, K0, 1n, X, 1n), call(c, K0, 2n, LOG_ADDR, word(0xa2))]
    onlyB = [
      call(c, K1, 0n, LOG_ADDR, word(0xb1)),
      call(c, K1, 1n, BH2_ADDR),
      call(c, K1, 2n, LOG_ADDR, word(0xb3)),
      call(c, K1, 3n, BH1_ADDR),
    ]
    // branch A: a1 [shared, logA1], a2 [transfer, logA2]
    a = [
      (await buildAndImport(chainA, [shared, onlyA[0] as TypedTransaction], { timestamp: 12n })).block,
      (await buildAndImport(chainA, [onlyA[1] as TypedTransaction, onlyA[2] as TypedTransaction], { timestamp: 24n }))
        .block,
    ]
    // branch B: b1 [logB1, shared], b2 [BLOCKHASH(n-2)], b3 [logB3, BLOCKHASH(n-1)]
    b = [
      (await buildAndImport(chainB, [onlyB[0] as TypedTransaction, shared], { timestamp: 13n })).block,
      (await buildAndImport(chainB, [onlyB[1] as TypedTransaction], { timestamp: 26n })).block,
      (await buildAndImport(chainB, [onlyB[2] as TypedTransaction, onlyB[3] as TypedTransaction], { timestamp: 39n }))
        .block,
    ]
    expect(hex(a[0] as Block)).not.toBe(hex(b[0] as Block))
  })

  it('keeps the head while the other branch is not longer, then switches to it', async () => {
    const [a1, a2] = a as [Block, Block]
    const [b1, b2, b3] = b as [Block, Block, Block]
    const events = record(chainA)

    expect((await importBlock(chainA, b1)).status).toBe('side')
    expect((await importBlock(chainA, b2)).status).toBe('side') // same height as the head: not preferred
    expect(hex(chainA.head)).toBe(hex(a2))
    expect(events).toEqual([])
    expect(bytesToHex((await chainA.getCanonicalHash(1n)) as Uint8Array)).toBe(hex(a1))

    const res = await importBlock(chainA, b3)
    expect(res.status).toBe('head')
    expect(res.removed.map(hex)).toEqual([hex(a2), hex(a1)]) // newest first
    expect(hex(chainA.head)).toBe(hex(b3))
    expect(chainA.head.header.stateRoot).toEqual(chainB.head.header.stateRoot)

    // events: reorg, the old branch's logs removed (newest block first), then each new block in order
    expect(events.map(describeEvent)).toEqual([
      'reorg',
      'logs 2:a2-,1:a1-',
      'newHead 1',
      'logs 1:b1+',
      'newHead 2',
      'newHead 3',
      'logs 3:b3+',
    ])
    const reorg = events[0]?.payload as ChainEvents['reorg']
    expect(hex(reorg.oldHead)).toBe(hex(a2))
    expect(hex(reorg.newHead)).toBe(hex(b3))
    expect(reorg.ancestorNumber).toBe(0n)
    expect(reorg.removed.map(hex)).toEqual([hex(a2), hex(a1)])
    expect(reorg.added.map(hex)).toEqual([hex(b1), hex(b2), hex(b3)])
    const removedLogs = events[1]?.payload as LogEntry[]
    expect(removedLogs.map((l) => [hex(a2) === bytesToHex(l.blockHash) ? 'a2' : 'a1', l.removed])).toEqual([
      ['a2', true],
      ['a1', true],
    ])
    expect(bytesToHex(removedLogs[0]?.transactionHash as Uint8Array)).toBe(
      bytesToHex((onlyA[2] as TypedTransaction).hash()),
    )
    const newHeads = events.filter((e) => e.name === 'newHead').map((e) => e.payload as ChainEvents['newHead'])
    expect(newHeads.map((n) => n.receipts.length)).toEqual([2, 1, 2])

    // canonical index: the new branch only
    for (const blk of [b1, b2, b3]) {
      expect(bytesToHex((await chainA.getCanonicalHash(blk.header.number)) as Uint8Array)).toBe(hex(blk))
    }
    expect(bytesToHex((await chainParts(chainA).store.getHeadHash('latest')) as Uint8Array)).toBe(hex(b3))
    expect(hex(await chainA.checkpoint('safe'))).toBe(hex(b3))
    expect(hex(await chainA.checkpoint('finalized'))).toBe(hex(chainA.genesisBlock))

    // tx index: txs only in the old branch are gone; the shared one points at the new branch
    for (const tx of onlyA) expect(await chainA.getTxLocation(tx.hash())).toBeUndefined()
    expect(await chainA.getTxLocation(shared.hash())).toEqual({ blockHash: b1.hash(), index: 1 })
    expect(await chainA.getTxLocation((onlyB[0] as TypedTransaction).hash())).toEqual({
      blockHash: b1.hash(),
      index: 0,
    })
    expect(await chainA.getTxLocation((onlyB[3] as TypedTransaction).hash())).toEqual({
      blockHash: b3.hash(),
      index: 1,
    })

    // the old branch stays stored (and its state readable), just not canonical
    expect(hex((await chainA.getBlock(a2.hash())) as Block)).toBe(hex(a2))
    expect(await balanceAt(chainA, a2.header.stateRoot, X)).toBe(1001n)
    expect(await balanceAt(chainA, chainA.head.header.stateRoot, X)).toBe(1000n)

    // BLOCKHASH on the new branch saw the new branch's ancestors (executed here as side blocks)
    const root = chainA.head.header.stateRoot
    expect(bytesToHex(await storageAt(chainA, root, BH2_ADDR, slot(2)))).toBe(hex(chainA.genesisBlock))
    expect(bytesToHex(await storageAt(chainA, root, BH1_ADDR, slot(3)))).toBe(hex(b2))
  })

  it('switches back when the first branch grows longer again', async () => {
    for (const blk of b) await importBlock(chainA, blk)
    // A's producer view: extend a2 to a3, a4 in chain A itself (building on a side parent)
    const a3 = await buildAndImport(chainA, [call(chainA.common, K0, 3n, LOG_ADDR, word(0xa3))], {
      parent: a[1] as Block,
      timestamp: 36n,
    })
    expect(a3.result.status).toBe('side')
    const events = record(chainA)
    const a4 = await buildAndImport(chainA, [], { parent: a3.block, timestamp: 48n })
    expect(a4.result.status).toBe('head')
    expect(a4.result.removed.map(hex)).toEqual([...b].reverse().map(hex))
    expect(events.map(describeEvent)).toEqual([
      'reorg',
      'logs 3:b3-,1:b1-',
      'newHead 1',
      'logs 1:a1+',
      'newHead 2',
      'logs 2:a2+',
      'newHead 3',
      'logs 3:a3+',
      'newHead 4',
    ])
    for (const tx of onlyA) expect((await chainA.getTxLocation(tx.hash()))?.blockHash).toBeDefined()
    for (const tx of onlyB) expect(await chainA.getTxLocation(tx.hash())).toBeUndefined()
    expect(await chainA.getTxLocation(shared.hash())).toEqual({ blockHash: (a[0] as Block).hash(), index: 0 })
    expect(bytesToHex((await chainA.getCanonicalHash(3n)) as Uint8Array)).toBe(hex(a3.block))
    expect(bytesToHex((await chainA.getCanonicalHash(4n)) as Uint8Array)).toBe(hex(a4.block))
  })

  it('a shorter side branch is stored as "side" and moves nothing', async () => {
    // chain B (head b3) receives a1 and a2
    const before = { head: chainB.head, canonical1: await chainB.getCanonicalHash(1n) }
    const events = record(chainB)
    for (const blk of a) {
      const res = await importBlock(chainB, blk)
      expect(res.status).toBe('side')
      expect(res.removed).toEqual([])
    }
    expect(chainB.head).toBe(before.head)
    expect(events).toEqual([])
    expect(await chainB.getCanonicalHash(1n)).toEqual(before.canonical1)
    expect(await chainParts(chainB).store.getHeadHash('latest')).toEqual(before.head.hash())
    for (const blk of a) {
      expect(hex((await chainB.getBlock(blk.hash())) as Block)).toBe(hex(blk))
      expect(await chainB.getBlockNumber(blk.hash())).toBe(blk.header.number)
      expect(await chainParts(chainB).store.receipts.getRaw(blk.hash())).toEqual(
        await chainParts(chainA).store.receipts.getRaw(blk.hash()),
      )
    }
    for (const tx of onlyA) expect(await chainB.getTxLocation(tx.hash())).toBeUndefined()
    expect(await chainB.getTxLocation(shared.hash())).toEqual({ blockHash: (b[0] as Block).hash(), index: 1 })
    // the side block's state was committed too (an archive node keeps every root)
    expect(await balanceAt(chainB, (a[1] as Block).header.stateRoot, X)).toBe(1001n)
    // and importing it again is 'known'
    const dump = await dumpKV(kvB)
    expect((await importBlock(chainB, a[1] as Block)).status).toBe('known')
    expect(await dumpKV(kvB)).toEqual(dump)
  })
})

describe('a fork below the head (depth-1 reorg, ancestor not genesis)', () => {
  it('reorgs to a competing branch from block 1, executing BLOCKHASH against the side branch', async () => {
    const chain = await openChain(new MemoryKV(), contractsGenesis())
    const c = chain.common
    const { block: x1 } = await buildAndImport(chain, [transfer(c, K0, 0n, X, 1n)])
    const { block: x2 } = await buildAndImport(chain, [transfer(c, K0, 1n, X, 2n)])
    // a competing y2 on x1, then y3: a side branch built in the same chain
    const y2 = await buildAndImport(chain, [transfer(c, K1, 0n, A2, 3n)], {
      parent: x1,
      timestamp: x1.header.timestamp + 5n,
    })
    expect(y2.result.status).toBe('side')
    expect(hex(chain.head)).toBe(hex(x2))
    const events = record(chain)
    const y3 = await buildAndImport(chain, [call(c, K2, 0n, BH2_ADDR), call(c, K2, 1n, BH1_ADDR)], { parent: y2.block })
    expect(y3.result.status).toBe('head')
    expect(y3.result.removed.map(hex)).toEqual([hex(x2)])
    const reorg = events.find((e) => e.name === 'reorg')?.payload as ChainEvents['reorg']
    expect(reorg.ancestorNumber).toBe(1n)
    expect(reorg.added.map(hex)).toEqual([hex(y2.block), hex(y3.block)])
    expect(events.map(describeEvent)).toEqual(['reorg', 'newHead 2', 'newHead 3'])

    const root = chain.head.header.stateRoot
    // built on y2 (not canonical while building): BLOCKHASH(2) = y2, BLOCKHASH(1) = x1
    expect(bytesToHex(await storageAt(chain, root, BH1_ADDR, slot(3)))).toBe(hex(y2.block))
    expect(bytesToHex(await storageAt(chain, root, BH2_ADDR, slot(3)))).toBe(hex(x1))
    // the removed x2 transfer is not in the state of the new head
    expect(await balanceAt(chain, x2.header.stateRoot, X)).toBe(3n)
    expect(await balanceAt(chain, root, X)).toBe(1n)
    expect(await chain.getTxLocation(x2.transactions[0]?.hash() as Uint8Array)).toBeUndefined()

    // a second chain that saw x1, x2 first imports y2, y3 through the execute path: same result
    const other = await openChain(new MemoryKV(), contractsGenesis())
    for (const blk of [x1, x2, y2.block]) await importBlock(other, blk)
    expect(hex(other.head)).toBe(hex(x2))
    expect((await importBlock(other, y3.block)).status).toBe('head')
    expect(other.head.header.stateRoot).toEqual(root)
  })
})

describe('other fork-choice rules', () => {
  it('an engine that prefers a lower block: canonical entries above the new head are removed', async () => {
    // prefers a block whose timestamp is odd, whatever its height
    const engine = { ...testEngine, preferHead: async (c: { timestamp: bigint }) => c.timestamp % 2n === 1n }
    const kv = new MemoryKV()
    const chain = await Chain.open({ genesis: contractsGenesis() }, { kv, engine, logger: silentLogger, metrics: null })
    const c = chain.common
    const t1 = transfer(c, K0, 0n, X, 1n)
    const t2 = transfer(c, K0, 1n, X, 2n)
    const { block: a1 } = await buildAndImport(chain, [t1], { timestamp: 10n })
    const { block: a2 } = await buildAndImport(chain, [t2], { timestamp: 20n })
    const events = record(chain)
    const c1 = await buildAndImport(chain, [transfer(c, K1, 0n, X, 5n)], { parent: chain.genesisBlock, timestamp: 11n })
    expect(c1.result.status).toBe('head')
    expect(c1.result.removed.map(hex)).toEqual([hex(a2), hex(a1)])
    expect(hex(chain.head)).toBe(hex(c1.block))
    expect(await chain.getCanonicalHash(2n)).toBeUndefined()
    expect(bytesToHex((await chain.getCanonicalHash(1n)) as Uint8Array)).toBe(hex(c1.block))
    expect(await chain.getTxLocation(t1.hash())).toBeUndefined()
    expect(await chain.getTxLocation(t2.hash())).toBeUndefined()
    const reorg = events[0]?.payload as ChainEvents['reorg']
    expect(reorg.ancestorNumber).toBe(0n)
    expect(events.map(describeEvent)).toEqual(['reorg', 'newHead 1'])
  })

  it('a reorg moves safe to the new branch but never reverts the finalized block (WOULD_REVERT_FINALIZED)', async () => {
    const lag = (n: bigint, d: bigint) => (n > d ? n - d : 0n)
    const engine = {
      ...testEngine,
      safeNumber: (h: { number: bigint }) => lag(h.number, 1n),
      finalizedNumber: (h: { number: bigint }) => lag(h.number, 2n),
    }
    const open = (kv = new MemoryKV()) =>
      Chain.open({ genesis: contractsGenesis() }, { kv, engine, logger: silentLogger, metrics: null })
    const kvA = new MemoryKV()
    const chainA = await open(kvA)
    const chainB = await open()
    const chainC = await open()
    const a: Block[] = []
    const b: Block[] = []
    for (let i = 0n; i < 6n; i++) a.push((await buildAndImport(chainC, [transfer(chainC.common, K0, i, X, 1n)])).block)
    for (let i = 0n; i < 4n; i++) b.push((await buildAndImport(chainB, [transfer(chainB.common, K1, i, X, 1n)])).block)
    for (const blk of a.slice(0, 2)) await importBlock(chainA, blk)
    expect(hex(await chainA.checkpoint('safe'))).toBe(hex(a[0] as Block))
    // Finalized is still the genesis: B's longer branch may replace A's.
    for (const blk of b) await importBlock(chainA, blk)
    expect(hex(chainA.head)).toBe(hex(b[3] as Block))
    expect(hex(await chainA.checkpoint('safe'))).toBe(hex(b[2] as Block))
    expect(hex(await chainA.checkpoint('finalized'))).toBe(hex(b[1] as Block))

    // A longer branch from A's blocks would revert B's finalized block 2: refused, and nothing
    // of it executes or is written.
    const events = record(chainA)
    const execute = vi.spyOn(chainParts(chainA).executor, 'execute')
    const kvBefore = await dumpKV(kvA)
    await expect(importBlock(chainA, a[2] as Block)).rejects.toMatchObject({
      code: 'CHAIN_WOULD_REVERT_FINALIZED',
    })
    await expect(importBlock(chainA, a[3] as Block)).rejects.toMatchObject({ code: 'CHAIN_PARENT_UNKNOWN' })
    expect(execute).not.toHaveBeenCalled()
    expect(await dumpKV(kvA)).toEqual(kvBefore)
    expect(events).toEqual([])
    expect(hex(chainA.head)).toBe(hex(b[3] as Block))
    // A fork above the finalized block is still fine.
    const fork = await buildAndImport(chainB, [], {
      parent: b[2] as Block,
      timestamp: (b[3] as Block).header.timestamp + 1n,
    })
    expect((await importBlock(chainA, fork.block)).status).toBe('side')
  })
})
