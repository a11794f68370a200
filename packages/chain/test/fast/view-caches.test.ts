// The shared read views' caches (src/view-caches.ts): bounded like @ethereumjs's LRU caches, but
// with nothing allocated up front (lru-cache sized by `maxSize`, not `max`), and a view reads what
// a fresh state manager at the same root reads.

import { MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, Address } from '@ethereumjs/util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { growingViewCaches } from '../../src/fast/view-caches.ts'

const address = (n: number) =>
  new Address(new Uint8Array(20).fill(0).map((_, i) => (i === 19 ? n & 0xff : i === 18 ? n >> 8 : 0)))

describe('growingViewCaches', () => {
  it('allocates nothing up front and stays within its bound', async () => {
    const caches = growingViewCaches({ accounts: 50, slots: 50, codes: 5 })
    const lru = (caches.account as unknown as { _lruCache: { max: number; maxSize: number } })._lruCache
    expect(lru.max).toBe(0)
    expect(lru.maxSize).toBe(50)
    const sm = new MerkleStateManager({ caches })
    for (let n = 0; n < 200; n++) await sm.putAccount(address(n), new Account(BigInt(n), BigInt(n) * 7n))
    expect(caches.account?.size()).toBeLessThanOrEqual(50)
  })

  it('a view with growing caches reads what one with none reads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(300), fc.bigInt({ min: 0n, max: 10n ** 20n })), { minLength: 1, maxLength: 80 }),
        async (writes) => {
          const plain = new MerkleStateManager()
          for (const [n, balance] of writes) await plain.putAccount(address(n), new Account(0n, balance))
          await plain.flush()
          const root = await plain.getStateRoot()
          const view = new MerkleStateManager({
            trie: plain['_trie'],
            caches: growingViewCaches({ accounts: 16, slots: 16, codes: 4 }),
          })
          await view.setStateRoot(root)
          for (let n = 0; n <= 300; n += 7) {
            const a = await view.getAccount(address(n))
            const b = await plain.getAccount(address(n))
            expect(a?.balance).toBe(b?.balance)
          }
        },
      ),
      { numRuns: 20 },
    )
  })
})
