import { MemoryKV } from '@cairn/db'
import { createAddressFromString } from '@ethereumjs/util'
import { describe, expect, it } from 'vitest'
import { ADDRS, INITIAL_BALANCE, openChain } from './helpers.ts'

describe('shared read views (Executor.stateAt)', () => {
  it('answer many distinct reads without keeping a record per read (bounded), and answer them right', async () => {
    const chain = await openChain(new MemoryKV())
    const view = chain.executor.stateAt(chain.head.header.stateRoot)
    expect(chain.executor.stateAt(chain.head.header.stateRoot)).toBe(view) // shared
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
})
