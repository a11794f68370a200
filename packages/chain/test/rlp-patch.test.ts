// patches/@ethereumjs+rlp+*.patch makes RLP.encode measure an item first and write it into one
// array (the published encoder concatenated a new array per item and per length prefix). Every
// @ethereumjs package encodes through it (transactions, accounts, receipts, trie nodes), so its
// output is checked against an independent encoder (viem's toRlp) over random nested items of
// every input type it accepts, at the length boundaries of the format (55/56 bytes, 1-, 2- and
// 3-byte lengths), and decoded back.
import { RLP } from '@ethereumjs/rlp'
import fc from 'fast-check'
import { bytesToHex, hexToBytes, toRlp } from 'viem'
import { describe, expect, it } from 'vitest'

type Item = Uint8Array | bigint | number | string | null | undefined | Item[]
type Bytes = Uint8Array | Bytes[]

const sized = fc.oneof(fc.integer({ min: 0, max: 60 }), fc.constantFrom(55, 56, 57, 255, 256, 257))
const bytes = sized.chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
const leaf: fc.Arbitrary<Item> = fc.oneof(
  bytes,
  fc.uint8Array({ minLength: 1, maxLength: 1 }),
  fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
  fc.nat(),
  fc.nat().map((n) => `0x${n.toString(16)}`),
  fc.string({ maxLength: 70 }).filter((s) => !s.startsWith('0x')),
  fc.constant(null),
  fc.constant(undefined),
)
const { item } = fc.letrec<{ item: Item; list: Item[] }>((tie) => ({
  item: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('list')),
  list: fc.array(tie('item'), { maxLength: 8 }),
}))
const wideList = fc.array(leaf, { minLength: 40, maxLength: 300 })

/** What RLP encodes for each input type (ethereumjs's toBytes rules), written independently. */
function asBytes(x: Item): Bytes {
  if (Array.isArray(x)) return x.map(asBytes)
  if (x instanceof Uint8Array) return x
  if (x === null || x === undefined) return new Uint8Array(0)
  if (typeof x === 'number' || typeof x === 'bigint') {
    if (BigInt(x) === 0n) return new Uint8Array(0)
    const hex = BigInt(x).toString(16)
    return hexToBytes(`0x${hex.length % 2 ? `0${hex}` : hex}`)
  }
  if (x.startsWith('0x')) return hexToBytes(`0x${x.length % 2 ? `0${x.slice(2)}` : x.slice(2)}`)
  return new TextEncoder().encode(x)
}

function sameAsReference(x: Item): void {
  const ours = RLP.encode(x as never)
  expect(bytesToHex(ours)).toBe(toRlp(asBytes(x) as Parameters<typeof toRlp>[0], 'hex'))
  expect(RLP.decode(ours)).toEqual(asBytes(x))
}

describe('the @ethereumjs/rlp patch', () => {
  it('is applied (npm install runs patch-package)', () => {
    expect(RLP.encode.toString()).toContain('measure(')
  })

  it('encodes every input type, nested, as an independent encoder does', () => {
    fc.assert(fc.property(item, sameAsReference), { numRuns: 500 })
  })

  it('encodes long lists and long strings (2- and 3-byte length prefixes)', () => {
    fc.assert(fc.property(wideList, sameAsReference), { numRuns: 40 })
    for (const n of [65_535, 65_536, 70_000]) {
      const long = Uint8Array.from({ length: n }, (_, i) => i % 251)
      sameAsReference(long)
      sameAsReference([long, [long.subarray(0, 56)], 1n])
    }
  })

  it('returns a single byte below 0x80 as given, and refuses what it cannot encode as before', () => {
    const one = Uint8Array.from([0x7f])
    expect(RLP.encode(one)).toBe(one)
    for (const b of [0x00, 0x7f, 0x80, 0xff]) {
      sameAsReference(Uint8Array.from([b]))
      sameAsReference([Uint8Array.from([b]), [Uint8Array.from([b])]])
    }
    expect(() => RLP.encode({} as never)).toThrow('toBytes: received unsupported type object')
    expect(() => RLP.encode(-1 as never)).toThrow('Invalid integer as argument, must be unsigned!')
    expect(() => RLP.encode([1, [-1]] as never)).toThrow('Invalid integer as argument, must be unsigned!')
  })
})
