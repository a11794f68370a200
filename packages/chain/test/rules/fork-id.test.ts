import { checkForkId, type ForkPoints, forkId } from '@cairn/chain'
import { hexToBytes } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

// EIP-2124's mainnet vectors (the block-number forks up to Gray Glacier).
const MAINNET: ForkPoints = {
  genesisHash: hexToBytes('0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3'),
  genesisTimestamp: 0n,
  blocks: [
    1150000n,
    1920000n,
    2463000n,
    2675000n,
    4370000n,
    7280000n,
    7280000n,
    9069000n,
    9200000n,
    12244000n,
    12965000n,
    13773000n,
    15050000n,
  ],
  timestamps: [],
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const at = (number: bigint) => ({ number, timestamp: 0n })

describe('fork id (EIP-2124)', () => {
  it.each([
    [0n, 'fc64ec04', 1150000n],
    [1149999n, 'fc64ec04', 1150000n],
    [1150000n, '97c2c34c', 1920000n],
    [1920000n, '91d1f948', 2463000n],
    [2463000n, '7a64da13', 2675000n],
    [2675000n, '3edd5b10', 4370000n],
    [4370000n, 'a00bc324', 7280000n],
    [7280000n, '668db0af', 9069000n],
    [9069000n, '879d6e30', 9200000n],
    [9200000n, 'e029e991', 12244000n],
    [12244000n, '0eb440f6', 12965000n],
    [12965000n, 'b715077d', 13773000n],
    [13773000n, '20c327fc', 15050000n],
    [15050000n, 'f0afd0e3', 0n],
  ])('mainnet at block %d: %s, next %d', (number, hash, next) => {
    const id = forkId(MAINNET, at(number))
    expect(hex(id.hash)).toBe(hash)
    expect(id.next).toBe(next)
  })

  it('accepts the same state, a peer behind on our schedule and a peer ahead; refuses the rest', () => {
    const head = at(7987396n) // Petersburg, next Istanbul (EIP-2124's examples)
    const local = forkId(MAINNET, head)
    expect(checkForkId(MAINNET, head, local)).toBeUndefined()
    // Remote at Byzantium announcing Petersburg: syncing, compatible.
    expect(checkForkId(MAINNET, head, { hash: hexToBytes('0xa00bc324'), next: 7280000n })).toBeUndefined()
    // Remote at Byzantium announcing no next fork: stale software.
    expect(checkForkId(MAINNET, head, { hash: hexToBytes('0xa00bc324'), next: 0n })).toBeDefined()
    // Remote ahead (Istanbul): we are syncing.
    expect(checkForkId(MAINNET, head, { hash: hexToBytes('0x879d6e30'), next: 9200000n })).toBeUndefined()
    // Same state, but the remote announces a fork we already passed without it.
    expect(checkForkId(MAINNET, head, { hash: local.hash, next: 7000000n })).toBeDefined()
    // Another chain.
    expect(checkForkId(MAINNET, head, { hash: hexToBytes('0xafec6b27'), next: 0n })).toBeDefined()
  })

  it('never refuses its own fork id, and a different genesis is always refused', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.bigInt({ min: 0n, max: 10_000n }), { maxLength: 6 }),
        fc.bigInt({ min: 0n, max: 12_000n }),
        (genesisHash, blocks, number) => {
          const points = { genesisHash, genesisTimestamp: 0n, blocks, timestamps: [] }
          const head = at(number)
          expect(checkForkId(points, head, forkId(points, head))).toBeUndefined()
          const other = { ...points, genesisHash: genesisHash.map((b) => b ^ 0xff) }
          const theirs = forkId(other, head)
          // A CRC32 collision is possible in principle; with these inputs it does not happen.
          expect(checkForkId(points, head, theirs)).toBeDefined()
        },
      ),
    )
  })
})
