import { MemoryKV } from '@cairn/db'
import { bytesToHex, CairnError, type Hex, type Logger, silentLogger, writerLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { describe, expect, it, vi } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import {
  BlockErrorCode,
  type BlockProcessorOptions,
  Chain,
  type ChainEngine,
  ChainErrorCode,
  devGenesis,
  type ProcessResult,
  type SenderRecovery,
} from '../../src/index.ts'
import { ADDRS, buildAndImport, KEYS, openChain, tamper, testEngine, transfer } from '../helpers.ts'

const [K0] = KEYS as [Uint8Array]
const X = '0x00000000000000000000000000000000000000aa' as Hex
const hex = (b: Block) => bytesToHex(b.hash())

async function open(
  opts: {
    blocks?: Partial<BlockProcessorOptions>
    now?: () => number
    engine?: ChainEngine
    logger?: Logger
    recovery?: SenderRecovery
  } = {},
): Promise<Chain> {
  const kv = new MemoryKV()
  await kv.open()
  return Chain.open(
    { genesis: devGenesis({ accounts: ADDRS }), ...(opts.blocks ? { blocks: opts.blocks } : {}) },
    {
      kv,
      engine: opts.engine ?? testEngine,
      logger: opts.logger ?? silentLogger,
      metrics: null,
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.recovery ? { recovery: opts.recovery } : {}),
    },
  )
}

/** `n` blocks of one transfer each, built and imported on a source chain. */
async function sourceBlocks(n: number): Promise<{ source: Chain; blocks: Block[] }> {
  const source = await openChain()
  const blocks: Block[] = []
  for (let i = 0; i < n; i++) {
    blocks.push((await buildAndImport(source, [transfer(source.common, K0, BigInt(i), X, 1n)])).block)
  }
  return { source, blocks }
}

function errorOf(r: ProcessResult) {
  if (r.status !== 'error') throw new Error(`expected an error, got ${r.status}`)
  return r.error
}

describe('processBlock: the front door for blocks from outside', () => {
  it('logs a gossiped block at info, a synced one at debug (a range sync logs its progress per batch)', async () => {
    const { blocks } = await sourceBlocks(2)
    const lines: [string, string][] = []
    const chain = await open({ logger: writerLogger((level, _f, msg) => void lines.push([level, msg])) })
    await chain.processBlock(blocks[0] as Block, { source: 'gossip', peer: 'p1' })
    await chain.processBlock(blocks[1] as Block, { source: 'sync', peer: 'p1' })
    expect(lines.filter(([, msg]) => msg === 'imported new head')).toEqual([
      ['info', 'imported new head'],
      ['debug', 'imported new head'],
    ])
  })

  it('blocks fed out of order wait in the orphan pool and are all imported once the first arrives', async () => {
    const { source, blocks } = await sourceBlocks(5)
    const chain = await open()
    const heads: bigint[] = []
    chain.events.on('newHead', ({ block }) => heads.push(block.header.number))
    for (const b of [...blocks].reverse().slice(0, 4)) {
      const r = await chain.processBlock(b, { source: 'gossip', peer: 'p1' })
      expect(r.status).toBe('unknownParent')
      if (r.status === 'unknownParent') expect(bytesToHex(r.parentHash)).toBe(bytesToHex(b.header.parentHash))
    }
    expect(chainParts(chain).blocks.orphanCount).toBe(4)
    expect(chain.head.header.number).toBe(0n)
    const r = await chain.processBlock(blocks[0] as Block, { source: 'gossip', peer: 'p1' })
    expect(r).toMatchObject({ status: 'imported', head: true })
    expect(hex(chain.head)).toBe(hex(source.head))
    expect(heads).toEqual([1n, 2n, 3n, 4n, 5n])
    expect(chainParts(chain).blocks.orphanCount).toBe(0)
    expect((await chain.processBlock(blocks[2] as Block, { source: 'sync' })).status).toBe('known')
  })

  it('a bad block is refused once (reject, penalize), remembered, and its descendants refused without execution', async () => {
    const { blocks } = await sourceBlocks(2)
    const [b1, b2] = blocks as [Block, Block]
    const chain = await open()
    const bad = tamper(b1, b1.common, { stateRoot: new Uint8Array(32).fill(7) })
    // A descendant of the bad block that arrives before it: an orphan, refused once its parent is.
    const early = tamper(b2, b2.common, { parentHash: bad.hash(), extraData: '0x01' })
    expect((await chain.processBlock(early, { source: 'gossip', peer: 'p2' })).status).toBe('unknownParent')
    const execute = vi.spyOn(chainParts(chain).executor, 'execute')
    const first = errorOf(await chain.processBlock(bad, { source: 'gossip', peer: 'p2' }))
    expect(first).toMatchObject({ code: ChainErrorCode.EXECUTION_MISMATCH, action: 'reject', penalize: true })
    expect(execute).toHaveBeenCalledTimes(1)
    expect(chainParts(chain).blocks.badReason(bad.hash())).toMatch(/stateRoot/)
    expect(chainParts(chain).blocks.orphanCount).toBe(0)

    const again = errorOf(await chain.processBlock(bad.serialize(), { source: 'gossip', peer: 'p3' }))
    expect(again).toMatchObject({ code: BlockErrorCode.KNOWN_BAD, action: 'reject', penalize: true })
    const child = tamper(b2, b2.common, { parentHash: bad.hash() })
    const refused = errorOf(await chain.processBlock(child, { source: 'gossip', peer: 'p3' }))
    expect(refused).toMatchObject({ code: BlockErrorCode.BAD_ANCESTOR, action: 'reject', penalize: true })
    expect(errorOf(await chain.processBlock(early, { source: 'gossip' })).code).toBe(BlockErrorCode.KNOWN_BAD)
    // And a grandchild of it.
    const grandchild = tamper(b2, b2.common, { parentHash: child.hash(), number: 3n })
    expect(errorOf(await chain.processBlock(grandchild, { source: 'sync' })).code).toBe(BlockErrorCode.BAD_ANCESTOR)
    expect(execute).toHaveBeenCalledTimes(1)
    // The good block still imports.
    expect((await chain.processBlock(b1, { source: 'gossip' })).status).toBe('imported')
    expect(chain.head.header.number).toBe(1n)
  })

  it('header rules and the engine refuse before execution; a transient fault is ignored and not remembered', async () => {
    const { blocks } = await sourceBlocks(1)
    const b1 = blocks[0] as Block
    let fail: CairnError | undefined
    const engine: ChainEngine = {
      ...testEngine,
      validateHeader: async () => {
        if (fail) throw fail
      },
    }
    const chain = await open({ engine })
    const execute = vi.spyOn(chainParts(chain).executor, 'execute')
    const badTime = tamper(b1, b1.common, { timestamp: 0n })
    expect(errorOf(await chain.processBlock(badTime, { source: 'gossip' }))).toMatchObject({
      code: ChainErrorCode.BLOCK_INVALID,
      action: 'reject',
      penalize: true,
    })
    fail = new CairnError(ChainErrorCode.BLOCK_INVALID, 'bad seal', { fault: 'caller' })
    const seal = errorOf(await chain.processBlock(tamper(b1, b1.common, { extraData: '0x02' }), { source: 'gossip' }))
    expect(seal).toMatchObject({
      code: ChainErrorCode.BLOCK_INVALID,
      message: 'bad seal',
      action: 'reject',
      penalize: true,
    })
    fail = new CairnError(ChainErrorCode.STATE_MISSING, 'not now', { fault: 'transient' })
    expect(errorOf(await chain.processBlock(b1, { source: 'gossip' }))).toMatchObject({
      code: ChainErrorCode.STATE_MISSING,
      action: 'ignore',
      penalize: false,
    })
    expect(chainParts(chain).blocks.badReason(b1.hash())).toBeUndefined()
    expect(execute).not.toHaveBeenCalled()
    fail = undefined
    expect((await chain.processBlock(b1, { source: 'gossip' })).status).toBe('imported')
  })

  it('bytes: decoded with a size limit; garbage and oversize blocks are rejected', async () => {
    const { blocks } = await sourceBlocks(1)
    const b1 = blocks[0] as Block
    const chain = await open({ blocks: { maxBlockBytes: b1.serialize().length } })
    expect(errorOf(await chain.processBlock(Uint8Array.of(1, 2, 3), { source: 'gossip' }))).toMatchObject({
      code: BlockErrorCode.DECODE,
      action: 'reject',
      penalize: true,
    })
    const big = new Uint8Array(b1.serialize().length + 1)
    expect(errorOf(await chain.processBlock(big, { source: 'gossip' })).code).toBe(BlockErrorCode.TOO_LARGE)
    expect((await chain.processBlock(b1.serialize(), { source: 'gossip' })).status).toBe('imported')
    expect(hex(chain.head)).toBe(hex(b1))
  })

  it('prepareBlocks: a batch decoded and all its senders recovered in one request, before processBlock', async () => {
    const { blocks } = await sourceBlocks(3)
    // A recovery that records each request and how many of its transactions still lacked a key.
    const requests: number[] = []
    const recovery: SenderRecovery = {
      async prepare(txs) {
        const missing = txs.filter((tx) => tx.cache.senderPubKey === undefined)
        requests.push(missing.length)
        for (const tx of missing) tx.cache.senderPubKey = tx.getSenderPublicKey()
      },
    }
    const chain = await open({ recovery, blocks: { maxBlockBytes: (blocks[0] as Block).serialize().length + 10 } })
    const garbage = Uint8Array.of(1, 2, 3)
    const prepared = await chain.prepareBlocks([...blocks.map((b) => b.serialize()), garbage])
    expect(requests).toEqual([3]) // one request for the three blocks' transactions
    expect(prepared.at(-1)).toBe(garbage) // not a block: left for processBlock to refuse
    for (const [i, b] of prepared.slice(0, 3).entries()) {
      const block = b as Block
      expect(hex(block)).toBe(hex(blocks[i] as Block))
      expect(block.transactions[0]?.cache.senderPubKey).toBeDefined()
    }
    for (const b of prepared.slice(0, 3))
      expect((await chain.processBlock(b, { source: 'sync' })).status).toBe('imported')
    // Execution found every sender recovered already.
    expect(requests.slice(1).every((n) => n === 0)).toBe(true)
    expect(errorOf(await chain.processBlock(garbage, { source: 'sync' })).code).toBe(BlockErrorCode.DECODE)
    expect(chain.head.header.number).toBe(3n)
  })

  it('a timestamp too far ahead of the clock is `future` from peers, imported from RPC', async () => {
    const { blocks } = await sourceBlocks(1)
    const b1 = blocks[0] as Block
    const now = Number(b1.header.timestamp) - 16
    const chain = await open({ now: () => now })
    const r = await chain.processBlock(b1, { source: 'gossip' })
    expect(r).toMatchObject({ status: 'future', aheadSeconds: 16n })
    expect(chain.head.header.number).toBe(0n)
    expect((await chain.processBlock(b1, { source: 'rpc' })).status).toBe('imported')
  })

  it('the orphan pool is bounded (oldest dropped) and the queue refuses past its limit', async () => {
    const { blocks } = await sourceBlocks(4)
    const chain = await open({ blocks: { maxOrphans: 2, maxQueue: 1 } })
    for (const b of blocks.slice(1)) await chain.processBlock(b, { source: 'gossip' })
    expect(chainParts(chain).blocks.orphanCount).toBe(2)
    // Block 2 (the oldest orphan) was dropped: importing block 1 cannot reach 3 and 4.
    const [r1, r2] = await Promise.all([
      chain.processBlock(blocks[0] as Block, { source: 'gossip' }),
      chain.processBlock(blocks[1] as Block, { source: 'gossip' }),
    ])
    expect(r1.status).toBe('imported')
    expect(errorOf(r2)).toMatchObject({ code: BlockErrorCode.QUEUE_FULL, action: 'ignore', penalize: false })
    expect(chain.head.header.number).toBe(1n)
    expect((await chain.processBlock(blocks[1] as Block, { source: 'gossip' })).status).toBe('imported')
    expect(chain.head.header.number).toBe(4n)
  })
})
