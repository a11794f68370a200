import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex } from '@cairn/utils'
import { type Block, createBlock, genTransactionsTrieRoot } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToBigInt, privateToAddress, randomBytes } from '@ethereumjs/util'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { type Chain, ChainErrorCode, type ChainEvents, decodeReceipts, encodeReceipts } from '../../src/index.ts'
import { ChainStore } from '../../src/store/store.ts'
import {
  ADDRS,
  accountAt,
  BH1_ADDR,
  BH2_ADDR,
  BURN_ADDR,
  balanceAt,
  buildAndImport,
  cairnError,
  call,
  contractsGenesis,
  dumpKV,
  expectedNextBaseFee,
  INITIAL_BALANCE,
  importBlock,
  KEYS,
  LOG_ADDR,
  listSource,
  openChain,
  storageAt,
  tamper,
  transfer,
  word,
} from '../helpers.ts'

const [K0, K1, K2] = KEYS as [Uint8Array, Uint8Array, Uint8Array]
const [A0, A1, A2] = ADDRS as [Hex, Hex, Hex]
const GWEI = 10n ** 9n
const ETHER = 10n ** 18n
const COINBASE = '0x0000000000000000000000000000000000000000' as Hex

type Recorded = { name: keyof ChainEvents; payload: unknown }
function record(chain: Chain): Recorded[] {
  const seen: Recorded[] = []
  for (const name of ['newHead', 'logs', 'reorg'] as const) {
    chain.events.on(name, (payload) => seen.push({ name, payload }))
  }
  return seen
}

describe('build + import', () => {
  it('advances the head and stores state, receipts, tx index, canonical index; emits newHead once', async () => {
    const kv = new MemoryKV()
    const chain = await openChain(kv)
    const events = record(chain)
    const genesis = chain.head
    const txs = [
      transfer(chain.common, K0, 0n, A1, 1n * ETHER),
      transfer(chain.common, K0, 1n, A2, 2n * ETHER),
      transfer(chain.common, K1, 0n, A0, 3n),
    ]
    const built = await chain.build(genesis, { timestamp: 12n }, listSource(txs))
    expect(built.rejected).toEqual([])
    expect(built.block.transactions.map((t) => bytesToHex(t.hash()))).toEqual(txs.map((t) => bytesToHex(t.hash())))

    const res = await chain.committer.commit(built)
    expect(res.status).toBe('head')
    expect(res.removed).toEqual([])
    const block = built.block
    const hash = block.hash()
    expect(chain.head.hash()).toEqual(hash)
    expect(block.header.number).toBe(1n)
    expect(block.header.parentHash).toEqual(genesis.hash())
    expect(block.header.gasUsed).toBe(63_000n)

    // base fee after an empty genesis: 1 gwei - 1/8
    const baseFee = block.header.baseFeePerGas as bigint
    expect(baseFee).toBe(875_000_000n)
    const price = baseFee + 1n * GWEI // tip 1 gwei < maxFee - baseFee
    const root = block.header.stateRoot
    expect(await balanceAt(chain, root, A0)).toBe(INITIAL_BALANCE - 3n * ETHER - 2n * 21_000n * price + 3n)
    expect(await balanceAt(chain, root, A1)).toBe(INITIAL_BALANCE + 1n * ETHER - 21_000n * price - 3n)
    expect(await balanceAt(chain, root, A2)).toBe(INITIAL_BALANCE + 2n * ETHER)
    expect(await balanceAt(chain, root, COINBASE)).toBe(3n * 21_000n * GWEI)
    expect((await accountAt(chain, root, A0))?.nonce).toBe(2n)
    expect((await accountAt(chain, root, A1))?.nonce).toBe(1n)
    expect((await accountAt(chain, root, A2))?.nonce).toBe(0n)
    // the parent's state is still readable (archive)
    expect(await balanceAt(chain, genesis.header.stateRoot, A0)).toBe(INITIAL_BALANCE)

    // receipts, read from the KV (not the cache)
    const raw = await chainParts(chain).store.receipts.getRaw(hash)
    expect(raw).toBeDefined()
    const receipts = decodeReceipts(raw as Uint8Array)
    expect(receipts.map((r) => [r.type, r.status, r.cumulativeGasUsed, bytesToHex(r.from)])).toEqual([
      [2, 1, 21_000n, A0],
      [2, 1, 42_000n, A0],
      [2, 1, 63_000n, A1],
    ])
    expect(encodeReceipts((await chain.getReceipts(hash)) ?? [])).toEqual(raw)

    // indexes
    for (const [i, tx] of txs.entries()) {
      expect(await chain.getTxLocation(tx.hash())).toEqual({ blockHash: hash, index: i })
    }
    expect(await chain.getCanonicalHash(1n)).toEqual(hash)
    expect(await chain.getCanonicalHash(2n)).toBeUndefined()
    expect((await chain.getBlockByNumber(1n))?.hash()).toEqual(hash)
    expect(await chain.getBlockNumber(hash)).toBe(1n)
    expect(await chainParts(chain).store.getHeadHash('latest')).toEqual(hash)
    expect((await chain.checkpoint('safe')).hash()).toEqual(hash) // the test engine: safe = head
    expect((await chain.checkpoint('finalized')).hash()).toEqual(genesis.hash())

    // the block reads back from a fresh store (not the cache) identically
    const fresh = new ChainStore(kv, chain.common)
    expect((await fresh.getBlock(hash))?.serialize()).toEqual(block.serialize())

    // one newHead, no logs (transfers log nothing), no reorg
    expect(events.map((e) => e.name)).toEqual(['newHead'])
    const nh = events[0]?.payload as ChainEvents['newHead']
    expect(nh.block.hash()).toEqual(hash)
    expect(nh.receipts.map((r) => r.cumulativeGasUsed)).toEqual([21_000n, 42_000n, 63_000n])
    expect(chainParts(chain).stateDB.pendingCount).toBe(0)
  })

  it('emits newHead then logs, once each, with the logs positioned in the block', async () => {
    const chain = await openChain(new MemoryKV(), contractsGenesis())
    await buildAndImport(chain, [transfer(chain.common, K2, 0n, A1, 1n)])
    const events = record(chain)
    const txs = [
      call(chain.common, K0, 0n, LOG_ADDR, word(0xaa)),
      transfer(chain.common, K1, 0n, A2, 5n),
      call(chain.common, K0, 1n, LOG_ADDR, word(0xbb)),
    ]
    const { block, receipts, result } = await buildAndImport(chain, txs)
    expect(result.status).toBe('head')
    expect(receipts.map((r) => r.logs.length)).toEqual([1, 0, 1])
    expect(events.map((e) => e.name)).toEqual(['newHead', 'logs'])
    const logs = events[1]?.payload as ChainEvents['logs']
    expect(
      logs.map((l) => ({
        address: bytesToHex(l.address),
        topics: l.topics.map(bytesToHex),
        data: bytesToHex(l.data),
        blockNumber: l.blockNumber,
        blockHash: bytesToHex(l.blockHash),
        blockTimestamp: l.blockTimestamp,
        transactionHash: bytesToHex(l.transactionHash),
        transactionIndex: l.transactionIndex,
        logIndex: l.logIndex,
        removed: l.removed,
      })),
    ).toEqual([
      {
        address: LOG_ADDR,
        topics: [bytesToHex(word(0xaa))],
        data: '0x',
        blockNumber: 2n,
        blockHash: bytesToHex(block.hash()),
        blockTimestamp: block.header.timestamp,
        transactionHash: bytesToHex((txs[0] as TypedTransaction).hash()),
        transactionIndex: 0,
        logIndex: 0,
        removed: false,
      },
      {
        address: LOG_ADDR,
        topics: [bytesToHex(word(0xbb))],
        data: '0x',
        blockNumber: 2n,
        blockHash: bytesToHex(block.hash()),
        blockTimestamp: block.header.timestamp,
        transactionHash: bytesToHex((txs[2] as TypedTransaction).hash()),
        transactionIndex: 2,
        logIndex: 1,
        removed: false,
      },
    ])
  })

  it('reports a tx it cannot include in `rejected` and still builds the block', async () => {
    const chain = await openChain()
    const poor = randomBytes(32)
    const poorAddr = bytesToHex(privateToAddress(poor)) as Hex
    const good1 = transfer(chain.common, K0, 0n, A1, 1n)
    const gap = transfer(chain.common, K1, 5n, A2, 1n) // nonce too high
    const broke = transfer(chain.common, poor, 0n, A2, 1n) // no balance at all
    const tooMuch = transfer(chain.common, K2, 0n, A0, INITIAL_BALANCE) // value + gas > balance
    const good2 = transfer(chain.common, K0, 1n, A2, 2n)
    const src = listSource([good1, gap, broke, tooMuch, good2])
    const built = await chain.build(chain.head, { timestamp: 1n }, src)
    expect(built.block.transactions.map((t) => bytesToHex(t.hash()))).toEqual(
      [good1, good2].map((t) => bytesToHex(t.hash())),
    )
    expect(built.rejected.map((r) => bytesToHex(r.tx.hash()))).toEqual(
      [gap, broke, tooMuch].map((t) => bytesToHex(t.hash())),
    )
    expect(built.rejected[0]?.reason).toMatch(/nonce/)
    expect(built.rejected[1]?.reason).toMatch(/enough funds/)
    expect(built.rejected[2]?.reason).toMatch(/enough funds/)
    expect(src.dropped).toEqual([gap, broke, tooMuch])
    expect(built.receipts).toHaveLength(2)
    const res = await chain.committer.commit(built)
    expect(res.status).toBe('head')
    expect(await balanceAt(chain, chain.head.header.stateRoot, poorAddr)).toBe(0n)
    expect((await accountAt(chain, chain.head.header.stateRoot, A1))?.nonce).toBe(0n)
    expect(await chain.getTxLocation(gap.hash())).toBeUndefined()
  })

  it('skips (without rejecting) a tx whose gas limit does not fit in the block', async () => {
    const chain = await openChain(new MemoryKV(), contractsGenesis())
    const fill = call(chain.common, K0, 0n, BURN_ADDR, new Uint8Array(), 15_000_000n)
    const big = call(chain.common, K1, 0n, BURN_ADDR, new Uint8Array(), 15_000_001n)
    const small = transfer(chain.common, K2, 0n, A0, 1n)
    const src = listSource([fill, big, small])
    const built = await chain.build(chain.head, { timestamp: 1n }, src)
    expect(built.block.transactions.map((t) => bytesToHex(t.hash()))).toEqual(
      [fill, small].map((t) => bytesToHex(t.hash())),
    )
    expect(built.rejected).toEqual([])
    expect(src.dropped).toEqual([big])
    expect(built.block.header.gasUsed).toBe(15_021_000n)
    expect(built.receipts.map((r) => r.status)).toEqual([0, 1]) // INVALID opcode: failed, all gas used
  })
})

describe('serialised imports', () => {
  it('concurrent imports of consecutive blocks run one at a time, in call order', async () => {
    const source = await openChain()
    const blocks: Block[] = []
    for (let i = 0n; i < 4n; i++)
      blocks.push((await buildAndImport(source, [transfer(source.common, K0, i, A1, 1n)])).block)
    const chain = await openChain()
    const events = record(chain)
    const results = await Promise.all(blocks.map((b) => importBlock(chain, b)))
    expect(results.map((r) => r.status)).toEqual(['head', 'head', 'head', 'head'])
    expect(chain.head.hash()).toEqual(source.head.hash())
    expect(events.map((e) => (e.payload as ChainEvents['newHead']).block.header.number)).toEqual([1n, 2n, 3n, 4n])
  })

  it('the same block imported twice at once: one head, one known', async () => {
    const source = await openChain()
    const { block } = await buildAndImport(source, [transfer(source.common, K0, 0n, A1, 1n)])
    const chain = await openChain()
    const events = record(chain)
    const [r1, r2] = await Promise.all([importBlock(chain, block), importBlock(chain, block)])
    expect([r1.status, r2.status]).toEqual(['head', 'known'])
    expect(events).toHaveLength(1)
  })
})

describe('gas limit bounds', () => {
  it('accepts a move of parentGasLimit/1024 - 1 and refuses parentGasLimit/1024', async () => {
    const source = await openChain()
    const bound = 30_000_000n / 1024n // 29296
    const up = await source.build(source.head, { timestamp: 1n, gasLimit: 30_000_000n + bound - 1n }, listSource([]))
    const tooFar = await source.build(source.head, { timestamp: 1n, gasLimit: 30_000_000n - bound }, listSource([]))
    const chain = await openChain()
    const err = await cairnError(importBlock(chain, tooFar.block))
    expect(err.code).toBe(ChainErrorCode.BLOCK_INVALID)
    expect(err.message).toMatch(/gas limit/)
    expect((await importBlock(chain, up.block)).status).toBe('head')
    expect(chain.head.header.gasLimit).toBe(30_029_295n)
  })
})

describe('EIP-1559 base fee', () => {
  it('rises 12.5% after a full block, falls 12.5% after an empty one, stays after a half-full one', async () => {
    const chain = await openChain(new MemoryKV(), contractsGenesis())
    const burn = (key: Uint8Array, nonce: bigint, gas: bigint) =>
      call(chain.common, key, nonce, BURN_ADDR, new Uint8Array(), gas)
    const plan: TypedTransaction[][] = [
      [], // block 1: empty
      [burn(K0, 0n, 15_000_000n), burn(K1, 0n, 15_000_000n)], // block 2: full
      [burn(K0, 1n, 15_000_000n)], // block 3: exactly the target
      [], // block 4: empty
      [transfer(chain.common, K2, 0n, A0, 1n)], // block 5: a little
      [],
    ]
    const blocks: Block[] = [chain.head]
    for (const txs of plan) blocks.push((await buildAndImport(chain, txs)).block)
    const used = blocks.map((b) => b.header.gasUsed)
    expect(used).toEqual([0n, 0n, 30_000_000n, 15_000_000n, 0n, 21_000n, 0n])
    const fees = blocks.map((b) => b.header.baseFeePerGas as bigint)
    // hand-computed
    expect(fees.slice(0, 6)).toEqual([
      1_000_000_000n,
      875_000_000n, // after empty genesis: -12.5%
      765_625_000n, // after empty block 1: -12.5%
      861_328_125n, // after full block 2: +12.5%
      861_328_125n, // after block 3 at target: unchanged
      753_662_110n, // after empty block 4: 861328125 - floor(861328125/8) = 861328125 - 107666015
    ])
    for (let i = 1; i < blocks.length; i++) {
      const parent = (blocks[i - 1] as Block).header
      const want = expectedNextBaseFee(parent.baseFeePerGas as bigint, parent.gasUsed, parent.gasLimit)
      expect(fees[i]).toBe(want)
      expect(parent.calcNextBaseFee()).toBe(want) // cross-check
    }
  })
})

describe('importing a block built elsewhere', () => {
  let source: Chain
  const blocks: Block[] = []

  beforeAll(async () => {
    source = await openChain(new MemoryKV(), contractsGenesis())
    const c = source.common
    const plan: TypedTransaction[][] = [
      [transfer(c, K0, 0n, A1, 7n), call(c, K1, 0n, LOG_ADDR, word(1)), call(c, K2, 0n, BH1_ADDR)],
      [],
      [call(c, K0, 1n, BH1_ADDR), call(c, K0, 2n, BH2_ADDR), transfer(c, K1, 1n, A2, 9n), call(c, K2, 1n, BURN_ADDR)],
    ]
    for (const txs of plan) blocks.push((await buildAndImport(source, txs)).block)
  })

  it('re-executes every block (validate + execute) and reaches the same state root, head and receipts', async () => {
    const kv = new MemoryKV()
    const chain = await openChain(kv, contractsGenesis())
    const execute = vi.spyOn(chainParts(chain).executor, 'execute')
    const events = record(chain)
    for (const block of blocks) {
      const res = await importBlock(chain, block)
      expect(res.status).toBe('head')
      expect(chain.head.hash()).toEqual(block.hash())
    }
    expect(execute).toHaveBeenCalledTimes(blocks.length)
    expect(chain.head.header.stateRoot).toEqual(source.head.header.stateRoot)
    expect(chain.head.hash()).toEqual(source.head.hash())
    for (const block of blocks) {
      const mine = await chainParts(chain).store.receipts.getRaw(block.hash())
      const theirs = await chainParts(source).store.receipts.getRaw(block.hash())
      expect(mine).toEqual(theirs)
      expect(await chain.getCanonicalHash(block.header.number)).toEqual(block.hash())
    }
    for (const a of [A0, A1, A2]) {
      expect(await balanceAt(chain, chain.head.header.stateRoot, a)).toBe(
        await balanceAt(source, source.head.header.stateRoot, a),
      )
    }
    expect(events.filter((e) => e.name === 'newHead')).toHaveLength(3)
    expect(events.filter((e) => e.name === 'logs')).toHaveLength(1)
    expect(chainParts(chain).stateDB.pendingCount).toBe(0)
  })

  it('re-importing a known block returns "known" and changes nothing', async () => {
    const kv = new MemoryKV()
    const chain = await openChain(kv, contractsGenesis())
    for (const block of blocks) await importBlock(chain, block)
    const before = await dumpKV(kv)
    const events = record(chain)
    for (const block of [...blocks, chain.genesisBlock]) {
      const res = await importBlock(chain, block)
      expect(res.status).toBe('known')
      expect(res.removed).toEqual([])
    }
    expect(events).toEqual([])
    expect(chain.head.hash()).toEqual((blocks[2] as Block).hash())
    expect(await dumpKV(kv)).toEqual(before)
  })

  it('BLOCKHASH sees the real ancestor hashes, when building and when importing', async () => {
    const [b1, b2, b3] = blocks as [Block, Block, Block]
    const root = source.head.header.stateRoot
    const key = (n: number) => word(0).map((_, i) => (i === 31 ? n : 0))
    // block 1: BLOCKHASH(0) = genesis; block 3: BLOCKHASH(2) and BLOCKHASH(1)
    expect(bytesToHex(await storageAt(source, root, BH1_ADDR, key(1)))).toBe(bytesToHex(source.genesisBlock.hash()))
    expect(bytesToHex(await storageAt(source, root, BH1_ADDR, key(3)))).toBe(bytesToHex(b2.hash()))
    expect(bytesToHex(await storageAt(source, root, BH2_ADDR, key(3)))).toBe(bytesToHex(b1.hash()))
    expect(bytesToBigInt(await storageAt(source, root, BH1_ADDR, key(2)))).toBe(0n) // nothing called in block 2
    expect(b3.header.number).toBe(3n)

    // a second chain executing the blocks stores the same hashes (else its state root would differ)
    const other = await openChain(new MemoryKV(), contractsGenesis())
    for (const block of blocks) await importBlock(other, block)
    const root2 = other.head.header.stateRoot
    expect(bytesToHex(await storageAt(other, root2, BH1_ADDR, key(3)))).toBe(bytesToHex(b2.hash()))
    expect(bytesToHex(await storageAt(other, root2, BH2_ADDR, key(3)))).toBe(bytesToHex(b1.hash()))
  })

  describe('a bad block is rejected and nothing is written', () => {
    let chain: Chain
    let kv: MemoryKV
    beforeAll(async () => {
      kv = new MemoryKV()
      chain = await openChain(kv, contractsGenesis())
      await importBlock(chain, blocks[0] as Block)
      await importBlock(chain, blocks[1] as Block)
    })

    const b2 = () => blocks[1] as Block
    const b3 = () => blocks[2] as Block
    const t = (over: () => Record<string, unknown>) => () => tamper(b3(), source.common, over())
    const cases: [string, () => Block, string, RegExp][] = [
      [
        'wrong stateRoot',
        t(() => ({ stateRoot: bytesToHex(word(0x11)) })),
        ChainErrorCode.EXECUTION_MISMATCH,
        /stateRoot/,
      ],
      [
        "stateRoot = the parent's",
        t(() => ({ stateRoot: bytesToHex(b2().header.stateRoot) })),
        ChainErrorCode.EXECUTION_MISMATCH,
        /stateRoot/,
      ],
      ['wrong gasUsed', t(() => ({ gasUsed: b3().header.gasUsed - 1n })), ChainErrorCode.EXECUTION_MISMATCH, /gasUsed/],
      [
        'wrong receiptTrie',
        t(() => ({ receiptTrie: bytesToHex(word(0x22)) })),
        ChainErrorCode.EXECUTION_MISMATCH,
        /receiptTrie/,
      ],
      [
        'wrong logsBloom',
        t(() => ({ logsBloom: bytesToHex(new Uint8Array(256).fill(1)) })),
        ChainErrorCode.EXECUTION_MISMATCH,
        /logsBloom/,
      ],
      [
        'wrong baseFee',
        t(() => ({ baseFeePerGas: (b3().header.baseFeePerGas as bigint) + 1n })),
        ChainErrorCode.BLOCK_INVALID,
        /base fee/,
      ],
      [
        'timestamp equal to the parent',
        t(() => ({ timestamp: b2().header.timestamp })),
        ChainErrorCode.BLOCK_INVALID,
        /timestamp/,
      ],
      ['timestamp before the parent', t(() => ({ timestamp: 1n })), ChainErrorCode.BLOCK_INVALID, /timestamp/],
      ['wrong number', t(() => ({ number: 5n })), ChainErrorCode.BLOCK_INVALID, /number/],
      ['gas limit jump', t(() => ({ gasLimit: 31_000_000n })), ChainErrorCode.BLOCK_INVALID, /gas limit/],
      // ethereumjs refuses to construct such a header unless told to skip its format checks
      [
        'extra data > 32 bytes',
        () =>
          tamper(
            b3(),
            source.common,
            { extraData: bytesToHex(new Uint8Array(33)) },
            { skipConsensusFormatValidation: true },
          ),
        ChainErrorCode.BLOCK_INVALID,
        /extra data/,
      ],
      [
        'unknown parent',
        t(() => ({ parentHash: bytesToHex(word(0x33)) })),
        ChainErrorCode.PARENT_UNKNOWN,
        /parent .* is unknown/,
      ],
    ]
    for (const [name, make, code, message] of cases) {
      it(name, async () => {
        const bad = make()
        const head = chain.head
        const before = await dumpKV(kv)
        const events = record(chain)
        const err = await cairnError(importBlock(chain, bad))
        expect(err.code).toBe(code)
        expect(err.message).toMatch(message)
        expect(err.fault).toBe('caller')
        expect(chain.head).toBe(head)
        expect(await dumpKV(kv)).toEqual(before)
        expect(await chain.getBlock(bad.hash())).toBeUndefined()
        expect(chainParts(chain).stateDB.pendingCount).toBe(0)
        expect(events).toEqual([])
        // the head's state is still readable
        expect(await balanceAt(chain, head.header.stateRoot, A1)).toBe(
          await balanceAt(source, b2().header.stateRoot, A1),
        )
      })
    }

    it('an execution mismatch names the field in meta', async () => {
      const err = await cairnError(importBlock(chain, tamper(b3(), source.common, { gasUsed: 1n })))
      expect(err.meta).toEqual({ field: 'gasUsed' })
    })

    it('a block whose transaction cannot run (stale nonce) is invalid', async () => {
      // block 3's header, but carrying block 1's first transaction again (its nonce is used up)
      const txs = [(blocks[0] as Block).transactions[0] as TypedTransaction]
      const bad = createBlock(
        {
          header: { ...b3().header.toJSON(), transactionsTrie: await genTransactionsTrieRoot(txs) },
          transactions: txs,
          withdrawals: [],
        },
        { common: source.common },
      )
      const before = await dumpKV(kv)
      const err = await cairnError(importBlock(chain, bad))
      expect(err.code).toBe(ChainErrorCode.BLOCK_INVALID)
      expect(err.message).toMatch(/transaction 0 .* cannot execute: .*nonce/)
      expect(await dumpKV(kv)).toEqual(before)
      expect(chainParts(chain).stateDB.pendingCount).toBe(0)
    })

    it('after all of that, the next valid blocks import fine', async () => {
      for (const block of blocks.slice(2)) {
        expect((await importBlock(chain, block)).status).toBe('head')
      }
      expect(chain.head.header.stateRoot).toEqual(source.head.header.stateRoot)
    })
  })
})
