import { createHash } from 'node:crypto'
import { MemoryKV } from '@cairn/db'
import { bytesToHex, type Hex, hexToBytes } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { importBlock, KEYS, listSource, openChain, transfer } from './helpers.ts'

const POINT_EVALUATION = '0x000000000000000000000000000000000000000a' as Hex
// The zero polynomial: its commitment and every opening proof are the G1 point at infinity, and it
// evaluates to 0 everywhere, so (z = anything, y = 0) is a valid opening.
const INFINITY = `0xc0${'00'.repeat(47)}`
const versionedHash = (commitment: string) =>
  `01${createHash('sha256')
    .update(hexToBytes(commitment as Hex))
    .digest('hex')
    .slice(2)}`
const word = (n: number) => n.toString(16).padStart(64, '0')
const input = (y: number, proof = INFINITY) =>
  `0x${versionedHash(INFINITY)}${word(7)}${word(y)}${INFINITY.slice(2)}${proof.slice(2)}` as Hex

describe('the KZG point-evaluation precompile (0x0a)', () => {
  it('verifies openings as on mainnet, and a block calling it re-executes to the same state', async () => {
    const producer = await openChain()
    const replica = await openChain(new MemoryKV())
    const call = (nonce: bigint, data: Hex) =>
      transfer(producer.common, KEYS[0] as Uint8Array, nonce, POINT_EVALUATION, 0n, { data, gasLimit: 200_000n })
    const txs = [
      call(0n, input(0)), // valid opening: succeeds
      call(1n, input(1)), // wrong value y: the proof does not verify, the call fails
      call(2n, '0x01'), // wrong input length
      call(3n, `0x${'00'.repeat(192)}`), // versioned hash does not match the commitment
    ]
    const built = await producer.build(
      producer.head,
      { timestamp: producer.head.header.timestamp + 12n },
      listSource(txs),
    )
    expect(built.rejected).toEqual([])
    expect(built.receipts.map((r) => r.status)).toEqual([1, 0, 0, 0])
    await producer.committer.commit(built)
    // A peer re-executes the block and must reach the same header (state root included).
    await importBlock(replica, built.block)
    expect(bytesToHex(replica.head.hash())).toBe(bytesToHex(built.block.hash()))
    // Failed calls burn their whole gas limit, the valid one pays 50,000 + intrinsic.
    const gas = built.receipts.map((r, i) => r.cumulativeGasUsed - (built.receipts[i - 1]?.cumulativeGasUsed ?? 0n))
    expect(gas[1]).toBe(200_000n)
    expect(gas[0]).toBeLessThan(200_000n)
  })
})
