import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ADDRS, balanceAt, importBlock, KEYS, listSource, openChain, transfer } from '../helpers.ts'

const OTHERS = ['0x00000000000000000000000000000000000a0001', '0x00000000000000000000000000000000000a0002'] as Hex[]
const TARGETS = [...ADDRS, ...OTHERS]

/** One step: build a block of these transfers, then import it or drop it (never commit it). */
const step = fc.record({
  abandon: fc.boolean(),
  txs: fc.array(
    fc.record({
      from: fc.nat({ max: KEYS.length - 1 }),
      to: fc.nat({ max: TARGETS.length - 1 }),
      value: fc.bigInt({ min: 0n, max: 10n ** 18n }),
    }),
    { maxLength: 8 },
  ),
})

describe('state caches kept across blocks (executor warm path)', () => {
  it('blocks built on the block just built (caches kept, some blocks abandoned) equal a cold re-execution', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const warm = await openChain(new MemoryKV())
        const cold = await openChain(new MemoryKV())
        const nonces = KEYS.map(() => 0n)
        let timestamp = warm.head.header.timestamp
        for (const s of steps) {
          const used = KEYS.map(() => 0n)
          const txs = s.txs.map((t) => {
            const nonce = (nonces[t.from] as bigint) + (used[t.from] as bigint)
            used[t.from] = (used[t.from] as bigint) + 1n
            return transfer(warm.common, KEYS[t.from] as Uint8Array, nonce, TARGETS[t.to] as Hex, t.value)
          })
          timestamp += 12n
          const built = await warm.build(warm.head, { timestamp }, listSource(txs))
          expect(built.rejected).toEqual([])
          if (s.abandon) continue
          await warm.committer.commit(built)
          for (let k = 0; k < nonces.length; k++) nonces[k] = (nonces[k] as bigint) + (used[k] as bigint)
          // The reference executes the block with cold caches: it checks the state root, receipts
          // root, bloom and gas used against the header the warm executor produced.
          await importBlock(cold, built.block)
          expect(bytesToHex(cold.head.hash())).toBe(bytesToHex(warm.head.hash()))
        }
        const root = warm.head.header.stateRoot
        for (const a of TARGETS) expect(await balanceAt(warm, root, a)).toBe(await balanceAt(cold, root, a))
      }),
      { numRuns: 25 },
    )
  }, 120_000)
})
