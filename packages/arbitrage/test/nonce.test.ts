// The nonce manager and the replacement fees (unit; the chain faked).
import { createLogger } from '@cairn/service-kit'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bumpFees, NonceManager } from '../src/execution/nonce-manager.ts'

const logger = createLogger({ level: 'silent', format: 'json' })
const ADDR = `0x${'2'.repeat(40)}` as const

describe('NonceManager', () => {
  it('hands out consecutive nonces from the pending count, concurrently without duplicates, reading it once', async () => {
    let reads = 0
    const m = new NonceManager(
      { address: ADDR },
      {
        client: {
          getTransactionCount: async () => {
            reads++
            return 7
          },
        },
        logger,
      },
    )
    const got = await Promise.all(Array.from({ length: 20 }, () => m.next()))
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 7 + i))
    expect(reads).toBe(1)
    m.settled(7)
    expect(m.pending()[0]).toBe(8)
  })

  it('resyncs to the chain after an error, settling what the chain has passed', async () => {
    let chain = 3
    const m = new NonceManager({ address: ADDR }, { client: { getTransactionCount: async () => chain }, logger })
    await m.next()
    await m.next()
    await m.next() // 3, 4, 5 out; the send of 5 failed before reaching the node
    chain = 5
    await m.resync()
    expect(m.pending()).toEqual([5])
    expect(await m.next()).toBe(5)
  })
})

describe('bumpFees', () => {
  it('raises both fees by at least the percentage and to what the network asks, or refuses past the cap', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        (fee, tip, nowFee, nowTip) => {
          const old = { maxFeePerGas: fee + tip, maxPriorityFeePerGas: tip }
          const b = bumpFees(old, { maxFeePerGas: nowFee, maxPriorityFeePerGas: nowTip }, 10)!
          expect(b.maxFeePerGas * 10n >= old.maxFeePerGas * 11n).toBe(true)
          expect(b.maxPriorityFeePerGas * 10n >= old.maxPriorityFeePerGas * 11n).toBe(true)
          expect(b.maxFeePerGas >= nowFee && b.maxPriorityFeePerGas >= nowTip).toBe(true)
          expect(b.maxFeePerGas >= b.maxPriorityFeePerGas).toBe(true)
          expect(
            bumpFees(old, { maxFeePerGas: nowFee, maxPriorityFeePerGas: nowTip }, 10, b.maxFeePerGas - 1n),
          ).toBeNull()
        },
      ),
    )
  })
})
