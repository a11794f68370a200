import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { describe, expect, it } from 'vitest'
import { Chain, ChainErrorCode, type ChainEvents, devGenesis } from '../../src/index.ts'
import { ADDRS, buildAndImport, cairnError, importBlock, KEYS, listSource, testEngine, transfer } from '../helpers.ts'

const [K0, K1] = KEYS as [Uint8Array, Uint8Array]
const X = '0x00000000000000000000000000000000000000aa' as Hex
const hex = (b: { hash(): Uint8Array }) => bytesToHex(b.hash())

/** An engine that proves finality: no rule, it pushes `setFinalized`. */
const { safeNumber: _s, finalizedNumber: _f, ...pushEngine } = testEngine

async function open(kv = new MemoryKV()): Promise<Chain> {
  await kv.open()
  return Chain.open(
    { genesis: devGenesis({ accounts: ADDRS }) },
    { kv, engine: pushEngine, logger: silentLogger, metrics: null },
  )
}

describe('finality pushed by the engine', () => {
  it('setFinalized stores the certificate, moves the finalized and safe tags, emits events, survives a restart', async () => {
    const kv = new MemoryKV()
    const chain = await open(kv)
    const blocks: Block[] = []
    for (let i = 0n; i < 3n; i++)
      blocks.push((await buildAndImport(chain, [transfer(chain.common, K0, i, X, 1n)])).block)
    // No rule: importing moves neither.
    expect(hex(await chain.checkpoint('finalized'))).toBe(hex(chain.genesisBlock))
    expect(hex(await chain.checkpoint('safe'))).toBe(hex(chain.genesisBlock))
    const seen: string[] = []
    chain.events.on('finalized', (e: ChainEvents['finalized']) =>
      seen.push(`finalized ${e.block.number} ${bytesToHex(e.certificate)}`),
    )
    chain.events.on('safe', (e: ChainEvents['safe']) => seen.push(`safe ${e.block.number}`))
    const cert = Uint8Array.of(0xc0, 0xde)
    await chain.setFinalized((blocks[1] as Block).hash(), cert)
    expect(seen).toEqual(['finalized 2 0xc0de', 'safe 2'])
    await chain.setSafe((blocks[2] as Block).hash())
    expect(seen.at(-1)).toBe('safe 3')
    expect(bytesToHex((await chain.getFinality((blocks[1] as Block).hash())) as Uint8Array)).toBe('0xc0de')
    expect(hex(await chain.checkpoint('finalized'))).toBe(hex(blocks[1] as Block))
    expect(hex(await chain.checkpoint('safe'))).toBe(hex(blocks[2] as Block))

    // Backwards, off the canonical chain, and below finality: refused.
    expect((await cairnError(chain.setFinalized((blocks[0] as Block).hash()))).code).toBe(
      ChainErrorCode.FINALITY_INVALID,
    )
    expect((await cairnError(chain.setFinalized(new Uint8Array(32)))).code).toBe(ChainErrorCode.FINALITY_INVALID)
    expect((await cairnError(chain.setSafe((blocks[0] as Block).hash()))).code).toBe(ChainErrorCode.FINALITY_INVALID)

    // A restart reads them back, and refuses a branch below the finalized block.
    const again = await Chain.open({}, { kv, engine: pushEngine, logger: silentLogger, metrics: null })
    expect(hex(again.finalizedHeader)).toBe(hex(blocks[1] as Block))
    const other = await open()
    const fork: Block[] = []
    for (let i = 0n; i < 5n; i++) fork.push((await buildAndImport(other, [transfer(other.common, K1, i, X, 2n)])).block)
    expect((await cairnError(importBlock(again, fork[0] as Block))).code).toBe(ChainErrorCode.WOULD_REVERT_FINALIZED)
  })

  it('a reorg above the finalized block proceeds, and a safe block it removes falls back to the fork point', async () => {
    const chain = await open()
    const other = await open()
    const a: Block[] = []
    for (let i = 0n; i < 3n; i++) a.push((await buildAndImport(chain, [transfer(chain.common, K0, i, X, 1n)])).block)
    for (const b of a.slice(0, 1)) await importBlock(other, b)
    await chain.setFinalized((a[0] as Block).hash())
    await chain.setSafe((a[2] as Block).hash())
    // The other branch forks after block 1 and is longer.
    const b: Block[] = []
    for (let i = 0n; i < 3n; i++) b.push((await buildAndImport(other, [transfer(other.common, K1, i, X, 3n)])).block)
    for (const blk of b) await importBlock(chain, blk)
    expect(hex(chain.head)).toBe(hex(b[2] as Block))
    expect(hex(await chain.checkpoint('finalized'))).toBe(hex(a[0] as Block))
    expect(hex(await chain.checkpoint('safe'))).toBe(hex(a[0] as Block))
  })

  it('a block imported with its finality is written final in its own batch; a known or side block is not', async () => {
    const kv = new MemoryKV()
    const chain = await open(kv)
    const other = await open()
    const build = async (on: Chain, key: Uint8Array, nonce: bigint) => {
      const parent = on.head
      return on.build(
        parent,
        { timestamp: parent.header.timestamp + 12n },
        listSource([transfer(on.common, key, nonce, X, 1n)]),
      )
    }
    const seen: string[] = []
    chain.events.on('newHead', (e: ChainEvents['newHead']) => seen.push(`newHead ${e.block.header.number}`))
    chain.events.on('finalized', (e: ChainEvents['finalized']) =>
      seen.push(`finalized ${e.block.number} ${bytesToHex(e.certificate)}`),
    )
    chain.events.on('safe', (e: ChainEvents['safe']) => seen.push(`safe ${e.block.number}`))
    let batches = 0
    const batch = kv.batch.bind(kv)
    kv.batch = (ops) => {
      batches++
      return batch(ops)
    }
    const b1 = await build(chain, K0, 0n)
    const cert = Uint8Array.of(0xce, 0x47)
    const r1 = await chain.committer.commit(b1, { finality: cert })
    expect(r1.status).toBe('head')
    expect(batches).toBe(1)
    expect(seen).toEqual(['newHead 1', 'finalized 1 0xce47', 'safe 1'])
    expect(hex(await chain.checkpoint('finalized'))).toBe(hex(b1.block))
    expect(hex(await chain.checkpoint('safe'))).toBe(hex(b1.block))
    expect(bytesToHex((await chain.getFinality(b1.block.hash())) as Uint8Array)).toBe('0xce47')

    // Known already: nothing written, finality where it was (the caller pushes setFinalized).
    const b2 = await build(chain, K0, 1n)
    await chain.committer.commit(b2)
    seen.length = 0
    batches = 0
    expect((await chain.committer.commit(b2, { finality: cert })).status).toBe('known')
    expect(batches).toBe(0)
    expect(seen).toEqual([])
    expect(hex(await chain.checkpoint('finalized'))).toBe(hex(b1.block))

    // A side block (the other chain's block 2 on the same block 1, not preferred): not final.
    await importBlock(other, b1.block)
    const side = await build(other, K1, 0n)
    const r = await importBlock(chain, side.block, { finality: cert })
    expect(r.status).toBe('side')
    expect(await chain.getFinality(side.block.hash())).toBeUndefined()
    expect(hex(await chain.checkpoint('finalized'))).toBe(hex(b1.block))

    // A restart reads the finality written with the block.
    const again = await Chain.open({}, { kv, engine: pushEngine, logger: silentLogger, metrics: null })
    expect(hex(again.finalizedHeader)).toBe(hex(b1.block))
  })
})
