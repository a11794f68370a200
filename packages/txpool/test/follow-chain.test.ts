import { ChainErrorCode } from '@cairn/chain'
import { CairnError, type CairnErrorCode, type Hex, silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { buildAndImport, KEYS, openChain, transfer } from '../../chain/test/helpers.ts'
import { classifyRefusal, followChain, TxPoolErrorCode } from '../src/index.ts'
import { poolOn } from './helpers.ts'

const [K0, K1] = KEYS as [Uint8Array, Uint8Array]
const X = '0x00000000000000000000000000000000000000aa' as Hex

describe('the pool follows the chain events', () => {
  it('a block imported from a peer (processBlock) removes its transactions; a reorg re-injects them', async () => {
    const chain = await openChain()
    const pool = poolOn(chain)
    const follower = followChain(pool, chain.events, { logger: silentLogger })
    const tx = transfer(chain.common, K0, 0n, X, 1n)
    await pool.add(tx, { source: 'local' })
    expect(pool.get(tx.hash())).toBeDefined()

    // Another node seals the transaction; this node only imports the block.
    const peerA = await openChain()
    const a1 = await buildAndImport(peerA, [tx])
    expect((await chain.processBlock(a1.block, { source: 'gossip', peer: 'a' })).status).toBe('imported')
    await follower.settled()
    expect(pool.get(tx.hash())).toBeUndefined()

    // A longer branch without it: the transaction comes back to the pool.
    const peerB = await openChain()
    const b1 = await buildAndImport(peerB, [transfer(peerB.common, K1, 0n, X, 2n)])
    const b2 = await buildAndImport(peerB, [])
    for (const b of [b1.block, b2.block]) await chain.processBlock(b, { source: 'gossip', peer: 'b' })
    expect(chain.head.hash()).toEqual(b2.block.hash())
    await follower.settled()
    expect(pool.get(tx.hash())).toBeDefined()
    expect(pool.size).toBe(1)
    follower.stop()
  })
})

describe('classifyRefusal', () => {
  it("says which refusals are the sender's fault", () => {
    const err = (code: CairnErrorCode, fault: 'caller' | 'transient' = 'caller') =>
      new CairnError(code, code, { fault })
    for (const code of [
      TxPoolErrorCode.INVALID_SENDER,
      TxPoolErrorCode.OVERSIZED,
      TxPoolErrorCode.TYPE_NOT_SUPPORTED,
    ]) {
      expect(classifyRefusal(err(code))).toBe('bad')
    }
    for (const code of [
      TxPoolErrorCode.ALREADY_KNOWN,
      TxPoolErrorCode.NONCE_TOO_LOW,
      TxPoolErrorCode.UNDERPRICED,
      TxPoolErrorCode.FULL,
      TxPoolErrorCode.INSUFFICIENT_FUNDS,
    ]) {
      expect(classifyRefusal(err(code))).toBe('ignore')
    }
    expect(classifyRefusal(err(ChainErrorCode.BLOCK_INVALID))).toBe('bad')
    expect(classifyRefusal(err('DB_WRITE_FAILED', 'transient'))).toBe('ignore')
    expect(classifyRefusal(new Error('rlp: bad input'))).toBe('bad')
  })
})
