import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { describe, expect, it } from 'vitest'
import { Chain, ChainErrorCode, type ChainEvents, devGenesis } from '../src/index.ts'
import { ADDRS, buildAndImport, cairnError, KEYS, testEngine, transfer } from './helpers.ts'

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
    expect(bytesToHex((await chain.store.finality.get((blocks[1] as Block).hash())) as Uint8Array)).toBe('0xc0de')
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
    expect(hex(again.importer.forkChoice.finalized())).toBe(hex(blocks[1] as Block))
    const other = await open()
    const fork: Block[] = []
    for (let i = 0n; i < 5n; i++) fork.push((await buildAndImport(other, [transfer(other.common, K1, i, X, 2n)])).block)
    expect((await cairnError(again.importer.importBlock(fork[0] as Block))).code).toBe(
      ChainErrorCode.WOULD_REVERT_FINALIZED,
    )
  })

  it('a reorg above the finalized block proceeds, and a safe block it removes falls back to the fork point', async () => {
    const chain = await open()
    const other = await open()
    const a: Block[] = []
    for (let i = 0n; i < 3n; i++) a.push((await buildAndImport(chain, [transfer(chain.common, K0, i, X, 1n)])).block)
    for (const b of a.slice(0, 1)) await other.importer.importBlock(b)
    await chain.setFinalized((a[0] as Block).hash())
    await chain.setSafe((a[2] as Block).hash())
    // The other branch forks after block 1 and is longer.
    const b: Block[] = []
    for (let i = 0n; i < 3n; i++) b.push((await buildAndImport(other, [transfer(other.common, K1, i, X, 3n)])).block)
    for (const blk of b) await chain.importer.importBlock(blk)
    expect(hex(chain.head)).toBe(hex(b[2] as Block))
    expect(hex(await chain.checkpoint('finalized'))).toBe(hex(a[0] as Block))
    expect(hex(await chain.checkpoint('safe'))).toBe(hex(a[0] as Block))
  })
})
