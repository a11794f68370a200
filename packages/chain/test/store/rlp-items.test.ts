// rlpListCount and rlpFirstItem read only length prefixes: against RLP.decode over random nested
// lists (short and long items and lists), and undefined for bytes that are not a whole list.
import { RLP } from '@ethereumjs/rlp'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rlpFirstItem, rlpItemLength, rlpListCount } from '../../src/store/rlp-items.ts'

type Nested = Uint8Array | Nested[]
const { tree } = fc.letrec<{ tree: Nested; node: Nested }>((tie) => ({
  // Strings and lists past 55 bytes take a long prefix: the long strings get them there.
  tree: fc.oneof(
    { maxDepth: 3 },
    fc.uint8Array({ maxLength: 80 }),
    fc.uint8Array({ minLength: 50, maxLength: 300 }),
    tie('node'),
  ),
  node: fc.array(tie('tree'), { maxLength: 6 }),
}))
const lists = fc.array(tree, { maxLength: 8 })

describe('RLP items by their prefixes', () => {
  it('counts a list as RLP.decode does; its first item is the first decoded', () => {
    fc.assert(
      fc.property(lists, (list) => {
        const bytes = RLP.encode(list as never)
        expect(rlpItemLength(bytes)).toBe(bytes.length)
        expect(rlpListCount(bytes)).toBe((RLP.decode(bytes) as unknown[]).length)
        const first = rlpFirstItem(bytes)
        if (list.length === 0) expect(first).toBeUndefined()
        else expect(RLP.decode(first as Uint8Array)).toEqual(RLP.decode(RLP.encode(list[0] as never)))
      }),
    )
  })

  it('a cut list or a string is not counted', () => {
    fc.assert(
      fc.property(
        lists.filter((l) => l.length > 0),
        fc.nat(),
        (list, cut) => {
          const bytes = RLP.encode(list as never)
          const short = bytes.subarray(0, cut % bytes.length)
          expect(rlpListCount(short)).toBeUndefined()
          expect(rlpFirstItem(short)).toBeUndefined()
        },
      ),
    )
    expect(rlpListCount(RLP.encode(new Uint8Array([1, 2, 3])))).toBeUndefined()
  })
})
