import { crc32 } from 'node:zlib'

/**
 * The EIP-2124 fork hash (extended to timestamps by EIP-6122): CRC32 of the genesis hash, then of
 * each fork's activation block number or timestamp (8 bytes, big-endian) in ascending order,
 * skipping forks active at genesis and repeated values. Node's zlib.crc32 (Node 20.15+; Cairn
 * needs 20.19+) is the IEEE polynomial the EIP uses.
 */
export function forkHash(genesisHash: Uint8Array, activations: bigint[]): string {
  let sum = crc32(genesisHash)
  const seen = new Set<bigint>()
  for (const at of [...activations].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (at === 0n || seen.has(at)) continue
    seen.add(at)
    const bytes = Buffer.alloc(8)
    bytes.writeBigUInt64BE(at)
    sum = crc32(bytes, sum)
  }
  return `0x${sum.toString(16).padStart(8, '0')}`
}
