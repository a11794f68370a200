import { equalsBytes } from '@cairn/utils'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { describe, expect, it } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../chain/test/helpers.ts'
import { setup } from './helpers.ts'

/** A fresh copy of `tx` from its bytes, as a received block's body decodes it: no key recovered yet. */
const copy = (tx: TypedTransaction) => createTxFromRLP(tx.serialize(), { common: tx.common })

describe('the pool seeds the senders of the transactions it holds', () => {
  it('gives a pooled transaction’s copy the recovered key (the same one a recovery gives); leaves the others', async () => {
    const { pool, common } = await setup()
    const pooled = [0n, 1n, 2n].map((n) => transfer(common, KEYS[0] as Uint8Array, n, ADDRS[1] as `0x${string}`, 1n))
    for (const tx of pooled) await pool.add(tx, { source: 'local' })
    const stranger = transfer(common, KEYS[2] as Uint8Array, 0n, ADDRS[1] as `0x${string}`, 1n)
    const block = [...pooled, stranger].map(copy)
    for (const tx of block) expect(tx.cache.senderPubKey).toBeUndefined()

    expect(pool.seedSenders(block)).toBe(3)
    block.slice(0, 3).forEach((tx, i) => {
      const key = tx.cache.senderPubKey as Uint8Array
      expect(key).toBeDefined()
      // What the copy would recover itself, and what the pooled original holds.
      expect(equalsBytes(key, copy(tx).getSenderPublicKey())).toBe(true)
      expect(equalsBytes(key, (pooled[i] as TypedTransaction).getSenderPublicKey())).toBe(true)
      expect(tx.verifySignature()).toBe(true)
      expect(tx.getSenderAddress().toString()).toBe(ADDRS[0]?.toLowerCase())
    })
    // Not pooled: untouched (its check recovers it as before).
    expect(block[3]?.cache.senderPubKey).toBeUndefined()
    // Seeded already: not counted again.
    expect(pool.seedSenders(block)).toBe(0)
  })

  it('prepareSenders without recovery workers does nothing (add recovers on the main thread)', async () => {
    const { pool, common } = await setup()
    const tx = copy(transfer(common, KEYS[0] as Uint8Array, 0n, ADDRS[1] as `0x${string}`, 1n))
    await pool.prepareSenders([tx])
    expect(tx.cache.senderPubKey).toBeUndefined()
    await pool.add(tx, { source: 'local' })
    expect(pool.size).toBe(1)
  })
})
