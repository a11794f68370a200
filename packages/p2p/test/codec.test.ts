import { RLP } from '@ethereumjs/rlp'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeHashes,
  decodeRange,
  decodeStatus,
  decodeTxAnnouncement,
  encodeHashes,
  encodeRange,
  encodeStatus,
  encodeTxAnnouncement,
  snappy,
  unsnappy,
} from '../src/codec.ts'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })

describe('codecs', () => {
  it('status round-trips', () => {
    fc.assert(
      fc.property(
        u64,
        bytes(32),
        bytes(4),
        u64,
        bytes(32),
        u64,
        bytes(32),
        u64,
        (chainId, g, fh, next, h, hn, f, fn) => {
          const s = {
            chainId,
            genesisHash: g,
            forkId: { hash: fh, next },
            headHash: h,
            headNumber: hn,
            finalizedHash: f,
            finalizedNumber: fn,
          }
          expect(decodeStatus(encodeStatus(s))).toEqual(s)
        },
      ),
    )
  })

  it('range and hash requests round-trip; too many hashes are refused', () => {
    fc.assert(
      fc.property(u64, fc.integer({ min: 0, max: 100_000 }), (start, count) => {
        expect(decodeRange(encodeRange({ start, count }))).toEqual({ start, count })
      }),
    )
    const hashes = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)]
    expect(decodeHashes(encodeHashes(hashes), 2)).toEqual(hashes)
    expect(() => decodeHashes(encodeHashes(hashes), 1)).toThrow(/more than 1/)
  })

  it('transaction announcements (eth/68) round-trip; lists of different lengths are refused', () => {
    const entry = fc.record({
      type: fc.integer({ min: 0, max: 255 }),
      size: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      hash: bytes(32),
    })
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 50 }), bytes(8), (txs, nonce) => {
        expect(decodeTxAnnouncement(encodeTxAnnouncement(txs, nonce))).toEqual(txs)
      }),
    )
    // with the bodies carried (a fifth item, one per hash)
    const carried = fc.record({
      type: fc.constantFrom(0, 1, 2),
      size: fc.nat({ max: 4096 }),
      hash: bytes(32),
      body: fc.uint8Array({ maxLength: 4096 }),
    })
    fc.assert(
      fc.property(fc.array(carried, { minLength: 1, maxLength: 20 }), bytes(8), (txs, nonce) => {
        expect(decodeTxAnnouncement(encodeTxAnnouncement(txs, nonce))).toEqual(txs)
      }),
      { numRuns: 30 },
    )
    const h = new Uint8Array(32)
    // bodies not one per hash, or one over 4 KiB: refused as the peer's fault
    expect(() => decodeTxAnnouncement(RLP.encode([new Uint8Array([2]), [1], [h], new Uint8Array(8), []]))).toThrow(
      /differ in length/,
    )
    expect(() =>
      decodeTxAnnouncement(RLP.encode([new Uint8Array([2]), [1], [h], new Uint8Array(8), [new Uint8Array(4097)]])),
    ).toThrow(/over 4 KiB/)
    // without the nonce (three items) it still decodes; a nonce over 32 bytes does not
    const one = [new Uint8Array([2]), [100], [new Uint8Array(32)]]
    expect(decodeTxAnnouncement(RLP.encode(one))).toHaveLength(1)
    expect(() => decodeTxAnnouncement(RLP.encode([...one, new Uint8Array(33)]))).toThrow(/nonce is too long/)
    const two = RLP.encode([new Uint8Array([2, 2]), [100], [new Uint8Array(32), new Uint8Array(32)]])
    expect(() => decodeTxAnnouncement(two)).toThrow(/differ in length/)
  })

  it('refuses garbage as a peer fault, never with a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
        for (const decode of [
          decodeStatus,
          decodeRange,
          decodeTxAnnouncement,
          (b: Uint8Array) => decodeHashes(b, 10),
        ]) {
          try {
            decode(junk)
          } catch (err) {
            expect((err as { fault?: string }).fault).toBe('peer')
          }
        }
      }),
    )
  })

  it('snappy round-trips and refuses what would decompress beyond the cap', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => {
        expect(unsnappy(snappy(data), 4096)).toEqual(data)
      }),
    )
    const big = snappy(new Uint8Array(10_000))
    expect(() => unsnappy(big, 1000)).toThrow(/snappy/)
  })
})
