import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { describe, expect, it } from 'vitest'
import { chainParts } from '../../src/chain-parts.ts'
import { ChainErrorCode } from '../../src/index.ts'
import { buildAndImport, cairnError, cairnErrorSync, KEYS, listSource, openChain, transfer } from '../helpers.ts'

const [K0, K1] = KEYS as [Uint8Array, Uint8Array]
const X = '0x00000000000000000000000000000000000000aa' as Hex
const hex = (b: { hash(): Uint8Array }) => bytesToHex(b.hash())

/** A KV whose next batch write fails (a full disk), once. */
class FailingKV extends MemoryKV {
  failNext = false
  override async batch(ops: Parameters<MemoryKV['batch']>[0]): Promise<void> {
    if (this.failNext) {
      this.failNext = false
      throw new Error('disk full')
    }
    return super.batch(ops)
  }
}

describe('fork choice (a stateful object: onBlock, onFinalized, head)', () => {
  it('decides without changing anything: the head moves only when the change is applied', async () => {
    const chain = await openChain()
    const a1 = (await buildAndImport(chain, [transfer(chain.common, K0, 0n, X, 1n)])).block
    const fc = chainParts(chain).importer.forkChoice
    // A sibling branch: b1 is stored as a side block, b2 on it is executed but not imported.
    const g = chain.genesisBlock
    const b1 = await chain.build(g, { timestamp: g.header.timestamp + 13n }, listSource([]))
    expect((await chain.committer.commit(b1)).status).toBe('side')
    const b2 = await chain.build(b1.block, { timestamp: g.header.timestamp + 26n }, listSource([]))
    const change = await fc.onBlock(b2.block)
    expect(change.status).toBe('head')
    expect(change.added.map(hex)).toEqual([hex(b1.block), hex(b2.block)])
    expect(change.removed.map(hex)).toEqual([hex(a1)])
    expect(change.moved.safe?.number).toBe(2n) // the test engine's rule: safe = head
    // Nothing moved yet: the importer writes first, then applies.
    expect(hex(fc.head())).toBe(hex(a1))
    expect(fc.safe().number).toBe(1n)
    fc.apply({ head: b2.block, moved: change.moved })
    expect(hex(fc.head())).toBe(hex(b2.block))
    expect(fc.safe().number).toBe(2n)
  })

  it('a failed write leaves the head, the canonical chain and the checkpoints where they were', async () => {
    const kv = new FailingKV()
    const chain = await openChain(kv)
    const a1 = (await buildAndImport(chain, [transfer(chain.common, K0, 0n, X, 1n)])).block
    const built = await chain.build(a1, { timestamp: a1.header.timestamp + 12n }, listSource([]))
    kv.failNext = true
    await expect(chain.committer.commit(built)).rejects.toThrow('disk full')
    expect(hex(chain.head)).toBe(hex(a1))
    expect(chain.safeHeader.number).toBe(1n)
    expect(await chain.getCanonicalHash(2n)).toBeUndefined()
    // The same block imports once the disk is back.
    const again = await chain.build(a1, { timestamp: a1.header.timestamp + 12n }, listSource([]))
    expect((await chain.committer.commit(again)).status).toBe('head')
    expect(chain.head.header.number).toBe(2n)
  })

  it('refuses finality that moves backwards, and a safe block below the finalized one', async () => {
    const chain = await openChain()
    const blocks: Block[] = []
    for (let i = 0n; i < 3n; i++)
      blocks.push((await buildAndImport(chain, [transfer(chain.common, K1, i, X, 1n)])).block)
    const fc = chainParts(chain).importer.forkChoice
    fc.apply({ moved: fc.onFinalized((blocks[1] as Block).header) })
    expect(fc.finalized().number).toBe(2n)
    expect(cairnErrorSync(() => fc.onFinalized((blocks[0] as Block).header)).code).toBe(ChainErrorCode.FINALITY_INVALID)
    expect(cairnErrorSync(() => fc.onSafe((blocks[0] as Block).header)).code).toBe(ChainErrorCode.FINALITY_INVALID)
    // And a branch from below it is not viable.
    const g = chain.genesisBlock
    const fork = await chain.build(g, { timestamp: g.header.timestamp + 7n }, listSource([]))
    expect((await cairnError(fc.checkViable(fork.block))).code).toBe(ChainErrorCode.WOULD_REVERT_FINALIZED)
  })
})
