// The canonical index keys block numbers by 8 bytes. A number past 2^64-1 is refused, never
// truncated: 2^64 + 5 used to read block 5 (issue 48 §2; the RPC refuses such numbers at its
// edge, this is the second line).
import { MemoryKV } from '@cairn/db'
import { isCairnError } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { openChain } from '../helpers.ts'

describe('ChainStore block numbers', () => {
  it('refuses a number past 2^64-1 as an internal error instead of reading the block its low 8 bytes name', async () => {
    const chain = await openChain(new MemoryKV())
    expect(await chain.getCanonicalHash(0n)).toBeDefined()
    for (const n of [2n ** 64n, 2n ** 64n + 5n, 2n ** 200n, -1n]) {
      const err = await chain.getBlockByNumber(n).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isCairnError(err, 'CHAIN_NUMBER_OUT_OF_RANGE'), `${n}: ${String(err)}`).toBe(true)
      expect((err as { fault: string }).fault).toBe('internal')
      await expect(chain.getCanonicalHash(n)).rejects.toThrow(/does not fit 64 bits/)
    }
    // The largest number fits: no block there.
    expect(await chain.getBlockByNumber(2n ** 64n - 1n)).toBeUndefined()
  })
})
