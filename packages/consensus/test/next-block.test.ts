// The next block's header as gas estimates and `pending` calls see it (nextBlockHeader over the
// engine's nextBlockEnv) is the header of the block the engine then seals: a property over random
// clocks, time offsets, fixed timestamps and blocks that fill up or not (so the base fee rises and
// falls), against the blocks the DevEngine really builds.
import { devGenesis } from '@cairn/chain'
import { bytesToHex, type Hex } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../chain/test/helpers.ts'
import { nextBlockHeader } from '../src/index.ts'
import { devSetup, stopAll } from './helpers.ts'

afterEach(stopAll)

const T0 = 1_800_000_000
const [K0] = KEYS as [Uint8Array]
const [, A1] = ADDRS as [Hex, Hex]

/** A block holds 5 transfers: 0 to 5 of them move the base fee down or up. */
const PER_BLOCK = 5n

type Step =
  | { kind: 'clock'; seconds: number }
  | { kind: 'increaseTime'; seconds: bigint }
  | { kind: 'setNextBlockTimestamp'; delta: bigint }
  | { kind: 'seal'; transfers: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('clock' as const), seconds: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('increaseTime' as const), seconds: fc.bigInt({ min: 1n, max: 100_000n }) }),
  fc.record({ kind: fc.constant('setNextBlockTimestamp' as const), delta: fc.bigInt({ min: 1n, max: 1000n }) }),
  fc.record({ kind: fc.constant('seal' as const), transfers: fc.integer({ min: 0, max: Number(PER_BLOCK) }) }),
)

/** The header fields a transaction can observe, and the ones derived from the parent. */
function observable(h: BlockHeader) {
  return {
    parentHash: bytesToHex(h.parentHash),
    number: h.number,
    timestamp: h.timestamp,
    coinbase: h.coinbase.toString(),
    mixHash: bytesToHex(h.mixHash),
    difficulty: h.difficulty,
    gasLimit: h.gasLimit,
    baseFeePerGas: h.baseFeePerGas,
    excessBlobGas: h.excessBlobGas,
    blobGasPrice: h.excessBlobGas === undefined ? undefined : h.getBlobGasPrice(),
    parentBeaconBlockRoot: h.parentBeaconBlockRoot && bytesToHex(h.parentBeaconBlockRoot),
  }
}

describe('nextBlockHeader(parent, engine.nextBlockEnv(parent))', () => {
  it('is the header of the block the dev engine seals next, whatever the clock, offsets and load', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        let clock = T0
        const genesis = devGenesis({ accounts: ADDRS }) as Record<string, unknown>
        const { chain, pool, engine } = await devSetup({
          now: () => clock,
          genesis: { ...genesis, gasLimit: `0x${(21_000n * PER_BLOCK).toString(16)}` },
        })
        let nonce = 0n
        for (const s of [...steps, { kind: 'seal', transfers: 0 } as const]) {
          if (s.kind === 'clock') clock += s.seconds
          else if (s.kind === 'increaseTime') engine.increaseTime(s.seconds)
          else if (s.kind === 'setNextBlockTimestamp')
            engine.setNextBlockTimestamp(chain.head.header.timestamp + s.delta)
          else {
            for (let i = 0; i < s.transfers; i++)
              await pool.add(transfer(chain.common, K0, nonce++, A1, 1n), { source: 'local' })
            const parent = chain.head
            const predicted = nextBlockHeader(parent, engine.nextBlockEnv(parent), chain.common)
            // Asking does not consume anything: asked twice, the same answer.
            expect(observable(nextBlockHeader(parent, engine.nextBlockEnv(parent), chain.common))).toEqual(
              observable(predicted),
            )
            const { block } = await engine.mine()
            expect(block.transactions.length).toBe(s.transfers)
            expect(observable(predicted)).toEqual(observable(block.header))
          }
        }
      }),
      { numRuns: 25 },
    )
  })
})
