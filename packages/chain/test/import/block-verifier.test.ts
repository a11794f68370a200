// The chain's narrow faces for engines (issue 49): `chain.verifier.verify` checks and executes a
// block on its parent without committing it, with the front door's bad-block cache (one cache:
// what either refuses, the other knows bad), and `chain.committer.commit` commits its result
// without executing it again. On LevelDB: "nothing committed" is the store's every entry unchanged.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelKV } from '@cairn/db'
import { bytesToHex, type Hex, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import {
  BLOCK_ERROR_CLASS,
  BlockErrorCode,
  Chain,
  type ChainEngine,
  ChainErrorCode,
  type ClassifiedCode,
  devGenesis,
  type VerifyResult,
} from '../../src/index.ts'
import { ADDRS, buildAndImport, dumpKV, KEYS, openChain, tamper, testEngine, transfer } from '../helpers.ts'

const [K0] = KEYS as [Uint8Array]
const X = '0x00000000000000000000000000000000000000aa' as Hex

const root = mkdtempSync(join(tmpdir(), 'cairn-block-verifier-'))
const opened: LevelKV[] = []
afterAll(async () => {
  await Promise.all(opened.map((kv) => kv.close()))
  rmSync(root, { recursive: true, force: true })
})

async function fresh(opts: { engine?: ChainEngine; now?: () => number } = {}): Promise<{ chain: Chain; kv: LevelKV }> {
  const kv = new LevelKV({ path: mkdtempSync(join(root, 'db-')), cacheSize: 1 << 20, writeBufferSize: 1 << 20 })
  await kv.open()
  opened.push(kv)
  const chain = await Chain.open(
    { genesis: devGenesis({ accounts: ADDRS }) },
    {
      kv,
      engine: opts.engine ?? testEngine,
      logger: silentLogger,
      metrics: null,
      ...(opts.now ? { now: opts.now } : {}),
    },
  )
  return { chain, kv }
}

/** `n` blocks of one transfer each, built and imported on a source chain. */
async function sourceBlocks(n: number): Promise<Block[]> {
  const source = await openChain()
  const blocks: Block[] = []
  for (let i = 0; i < n; i++) {
    blocks.push((await buildAndImport(source, [transfer(source.common, K0, BigInt(i), X, 1n)])).block)
  }
  return blocks
}

function errorOf(r: VerifyResult) {
  if (r.ok) throw new Error('expected a refusal')
  return r.error
}

describe('chain.verifier and chain.committer', () => {
  it('verify executes without committing (store and head unchanged); commit imports its result without executing again', async () => {
    const [b1] = (await sourceBlocks(1)) as [Block]
    const { chain, kv } = await fresh()
    const before = await dumpKV(kv)
    const execute = vi.spyOn(chainParts(chain).executor, 'execute')
    const r = await chain.verifier.verify(b1.serialize(), chain.head, { source: 'gossip', peer: 'p1' })
    if (!r.ok) throw r.error
    expect(bytesToHex(r.executed.block.hash())).toBe(bytesToHex(b1.hash()))
    expect(execute).toHaveBeenCalledTimes(1)
    expect(chain.head.header.number).toBe(0n)
    expect(await chain.getBlockNumber(b1.hash())).toBeUndefined()
    expect(await dumpKV(kv)).toEqual(before)

    const heads: bigint[] = []
    chain.events.on('newHead', ({ block }) => heads.push(block.header.number))
    const imported = await chain.committer.commit(r.executed, { senderOverrides: false })
    expect(imported.status).toBe('head')
    expect(execute).toHaveBeenCalledTimes(1)
    expect(bytesToHex(chain.head.hash())).toBe(bytesToHex(b1.hash()))
    expect(await chain.getReceipts(b1.hash())).toHaveLength(1)
    expect(heads).toEqual([1n])
  })

  it('commit with finality writes the block final in its own batch', async () => {
    const [b1] = (await sourceBlocks(1)) as [Block]
    const { chain } = await fresh()
    const r = await chain.verifier.verify(b1, chain.head, { source: 'consensus' })
    if (!r.ok) throw r.error
    const certificate = Uint8Array.of(1, 2, 3)
    await chain.committer.commit(r.executed, { senderOverrides: false, finality: certificate })
    expect((await chain.checkpoint('finalized')).header.number).toBe(1n)
    expect(bytesToHex((await chain.getFinality(b1.hash())) as Uint8Array)).toBe(bytesToHex(certificate))
  })

  it("a block verify refuses is in the front door's bad-block cache, and its descendants are refused without execution", async () => {
    const [b1, b2] = (await sourceBlocks(2)) as [Block, Block]
    const { chain } = await fresh()
    const execute = vi.spyOn(chainParts(chain).executor, 'execute')
    const bad = tamper(b1, b1.common, { stateRoot: new Uint8Array(32).fill(7) })
    expect(errorOf(await chain.verifier.verify(bad, chain.head, { source: 'consensus' }))).toMatchObject({
      code: ChainErrorCode.EXECUTION_MISMATCH,
      action: 'reject',
      penalize: true,
    })
    expect(execute).toHaveBeenCalledTimes(1)
    expect(chainParts(chain).blocks.badReason(bad.hash())).toMatch(/stateRoot/)
    // The front door knows it bad.
    const front = await chain.processBlock(bad, { source: 'gossip', peer: 'p1' })
    expect(front).toMatchObject({ status: 'error', error: { code: BlockErrorCode.KNOWN_BAD } })
    // Verified again: refused from the cache.
    expect(errorOf(await chain.verifier.verify(bad.serialize(), chain.head, { source: 'consensus' })).code).toBe(
      BlockErrorCode.KNOWN_BAD,
    )
    // A child of it (on whatever parent it is verified against) is refused as a bad block's descendant.
    const child = tamper(b2, b2.common, { parentHash: bad.hash() })
    expect(errorOf(await chain.verifier.verify(child, chain.head, { source: 'consensus' }))).toMatchObject({
      code: BlockErrorCode.BAD_ANCESTOR,
      action: 'reject',
    })
    expect(chainParts(chain).blocks.badReason(child.hash())).toMatch(/descends from bad block/)
    expect(execute).toHaveBeenCalledTimes(1)
    // Nothing was committed; the good block still verifies.
    expect(chain.head.header.number).toBe(0n)
    expect((await chain.verifier.verify(b1, chain.head, { source: 'consensus' })).ok).toBe(true)
  })

  it('a block the front door refused is refused by verify without executing it', async () => {
    const [b1] = (await sourceBlocks(1)) as [Block]
    const { chain } = await fresh()
    const bad = tamper(b1, b1.common, { receiptTrie: new Uint8Array(32).fill(3) })
    expect((await chain.processBlock(bad, { source: 'gossip', peer: 'p1' })).status).toBe('error')
    const execute = vi.spyOn(chainParts(chain).executor, 'execute')
    expect(errorOf(await chain.verifier.verify(bad, chain.head, { source: 'consensus' })).code).toBe(
      BlockErrorCode.KNOWN_BAD,
    )
    expect(execute).not.toHaveBeenCalled()
  })

  it("the front door's policies: size limit, header rules before execution; a wrong parent or a transient fault is not remembered", async () => {
    const [b1, b2] = (await sourceBlocks(2)) as [Block, Block]
    let fail: Error | undefined
    const engine: ChainEngine = {
      ...testEngine,
      validateHeader: async () => {
        if (fail) throw fail
      },
    }
    const { chain } = await fresh({ engine })
    const execute = vi.spyOn(chainParts(chain).executor, 'execute')
    expect(errorOf(await chain.verifier.verify(Uint8Array.of(1, 2, 3), chain.head, { source: 'gossip' })).code).toBe(
      BlockErrorCode.DECODE,
    )
    const huge = new Uint8Array(11 * 1024 * 1024)
    expect(errorOf(await chain.verifier.verify(huge, chain.head, { source: 'gossip' })).code).toBe(
      BlockErrorCode.TOO_LARGE,
    )
    // b2 on genesis: not its parent. Not the block's fault, not remembered.
    expect(errorOf(await chain.verifier.verify(b2, chain.head, { source: 'consensus' }))).toMatchObject({
      code: BlockErrorCode.PARENT_MISMATCH,
      action: 'ignore',
      penalize: false,
    })
    expect(chainParts(chain).blocks.badReason(b2.hash())).toBeUndefined()
    fail = new Error('no state here yet')
    expect(errorOf(await chain.verifier.verify(b1, chain.head, { source: 'consensus' }))).toMatchObject({
      code: BlockErrorCode.NOT_IMPORTED,
      action: 'ignore',
      penalize: false,
    })
    expect(chainParts(chain).blocks.badReason(b1.hash())).toBeUndefined()
    expect(execute).not.toHaveBeenCalled()
    fail = undefined
    expect((await chain.verifier.verify(b1, chain.head, { source: 'consensus' })).ok).toBe(true)
  })

  it("the clock: the front door's limit for peers' blocks, a caller's own; the parent's + 1 is never too far ahead", async () => {
    const [b1] = (await sourceBlocks(1)) as [Block]
    const t = Number(b1.header.timestamp)
    let now = t - 16
    const { chain } = await fresh({ now: () => now })
    expect(errorOf(await chain.verifier.verify(b1, chain.head, { source: 'gossip' }))).toMatchObject({
      code: BlockErrorCode.FUTURE,
      action: 'ignore',
    })
    expect(chainParts(chain).blocks.badReason(b1.hash())).toBeUndefined()
    // Not from a peer: no limit unless the caller sets one (with its own clock).
    expect((await chain.verifier.verify(b1, chain.head, { source: 'consensus' })).ok).toBe(true)
    expect(
      errorOf(
        await chain.verifier.verify(b1, chain.head, { source: 'consensus', maxFutureSeconds: 5, now: () => t - 6 }),
      ).code,
    ).toBe(BlockErrorCode.FUTURE)
    expect(
      (await chain.verifier.verify(b1, chain.head, { source: 'consensus', maxFutureSeconds: 5, now: () => t - 5 })).ok,
    ).toBe(true)
    // A block at its parent's timestamp + 1, however far ahead of the clock.
    const early = tamper(b1, b1.common, { timestamp: chain.head.header.timestamp + 1n })
    now = Number(early.header.timestamp) - 1000
    const r = await chain.verifier.verify(early, chain.head, { source: 'gossip' })
    expect(r.ok || r.error.code).not.toBe(BlockErrorCode.FUTURE)
  })

  it('every chain and front-door code is classified (a new one fails the type check until it is)', () => {
    const codes = [...Object.values(ChainErrorCode), ...Object.values(BlockErrorCode)] as ClassifiedCode[]
    expect(Object.keys(BLOCK_ERROR_CLASS).sort()).toEqual([...codes].sort())
    // The classes the front door always gave them (by the fault they are thrown with).
    const rejected = Object.entries(BLOCK_ERROR_CLASS)
      .filter(([, c]) => c.action === 'reject')
      .map(([code]) => code)
      .sort()
    expect(rejected).toEqual(
      [
        ChainErrorCode.GENESIS_INVALID,
        ChainErrorCode.GENESIS_MISMATCH,
        ChainErrorCode.PARENT_UNKNOWN,
        ChainErrorCode.BLOCK_INVALID,
        ChainErrorCode.EXECUTION_MISMATCH,
        ChainErrorCode.WOULD_REVERT_FINALIZED,
        ChainErrorCode.FINALITY_INVALID,
        ChainErrorCode.BLOCK_RLP_LIMIT_EXCEEDED,
        BlockErrorCode.DECODE,
        BlockErrorCode.TOO_LARGE,
        BlockErrorCode.KNOWN_BAD,
        BlockErrorCode.BAD_ANCESTOR,
      ].sort(),
    )
    for (const c of Object.values(BLOCK_ERROR_CLASS)) expect(c.penalize).toBe(c.action === 'reject')
  })

  it("gossip's preValidate runs once: processBlock of a block it found valid does not run the cheap checks again", async () => {
    const [b1] = (await sourceBlocks(1)) as [Block]
    const engine: ChainEngine = { ...testEngine, validateHeader: vi.fn(async () => {}) }
    const { chain } = await fresh({ engine })
    const pre = await chain.preValidate(b1.serialize(), 'gossip')
    if (pre.status !== 'valid') throw new Error(pre.status)
    expect(engine.validateHeader).toHaveBeenCalledTimes(1)
    const r = await chain.processBlock(pre.block, { source: 'gossip', peer: 'p1', preValidated: true })
    expect(r.status).toBe('imported')
    // Once by preValidate, once by the import's checks before execution; not a third time.
    expect(engine.validateHeader).toHaveBeenCalledTimes(2)
    // A block object preValidate did not find valid gets the checks anyway.
    const [c1] = (await sourceBlocks(1)) as [Block]
    const other = tamper(c1, c1.common, { timestamp: 0n })
    const refused = await chain.processBlock(other, { source: 'gossip', preValidated: true })
    expect(refused).toMatchObject({ status: 'error', error: { code: ChainErrorCode.BLOCK_INVALID } })
  })

  it('preValidated still consults the bad-block cache (a block refused meanwhile is known bad)', async () => {
    const [b1] = (await sourceBlocks(1)) as [Block]
    const { chain } = await fresh()
    const bad = tamper(b1, b1.common, { stateRoot: new Uint8Array(32).fill(9) })
    const pre = await chain.preValidate(bad, 'gossip')
    expect(pre.status).toBe('valid')
    expect((await chain.processBlock(bad, { source: 'gossip' })).status).toBe('error')
    const execute = vi.spyOn(chainParts(chain).executor, 'execute')
    const again = await chain.processBlock(bad, { source: 'gossip', preValidated: true })
    expect(again).toMatchObject({ status: 'error', error: { code: BlockErrorCode.KNOWN_BAD } })
    expect(execute).not.toHaveBeenCalled()
  })
})
