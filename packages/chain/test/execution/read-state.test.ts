import { MemoryKV } from '@cairn/db'
import { createAddressFromString } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { ADDRS, INITIAL_BALANCE, openChain } from '../helpers.ts'

describe('shared read views (Executor.stateAt)', () => {
  it('answer many distinct reads without keeping a record per read (bounded), and answer them right', async () => {
    const chain = await openChain(new MemoryKV())
    const view = chain.stateAt(chain.head.header.stateRoot)
    expect(chain.stateAt(chain.head.header.stateRoot)).toBe(view) // shared
    const diffs = () => (view as unknown as { _caches: { account: { _diffCache: Map<string, unknown>[] } } })._caches
    for (let i = 0; i < 5000; i++) {
      const a = createAddressFromString(`0x${(i + 1).toString(16).padStart(40, '0')}`)
      expect(await view.getAccount(a)).toBeUndefined()
      await view.getStorage(a, new Uint8Array(32))
      await view.getCode(a)
    }
    // @ethereumjs records every cache fill for a flush that a read-only view never does.
    expect(diffs().account._diffCache[0]?.size).toBeLessThanOrEqual(1024)
    for (const a of ADDRS) expect((await view.getAccount(createAddressFromString(a)))?.balance).toBe(INITIAL_BALANCE)
  })

  it('give every caller its own account object, equal to a fresh decoding (callers mutate what they read)', async () => {
    const chain = await openChain(new MemoryKV())
    const view = chain.stateAt(chain.head.header.stateRoot)
    const a = createAddressFromString(ADDRS[0] as string)
    const first = await view.getAccount(a) // decoded from the trie, cached
    const second = await view.getAccount(a) // from the cache
    const third = await view.getAccount(a)
    if (!first || !second || !third) throw new Error('account missing')
    expect(second).not.toBe(third)
    expect(second.serialize()).toEqual(first.serialize())
    second.balance = 1n
    second.nonce = 7n
    expect(third.balance).toBe(INITIAL_BALANCE)
    const fourth = await view.getAccount(a)
    expect(fourth?.balance).toBe(INITIAL_BALANCE)
    expect(fourth?.nonce).toBe(0n)
    expect(fourth?.serialize()).toEqual(first.serialize())
  })
})
