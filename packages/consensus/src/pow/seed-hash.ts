/**
 * What `eth_getWork`'s second field (geth: the Ethash DAG's seed hash) carries here: the seal's
 * parameters, so that an external miner needs nothing but the work API.
 */
import { keccak256 } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import { SEAL_SALT } from './seal.ts'

/**
 * The seed hash `eth_getWork` gives (Ethash's DAG seed has no meaning here): the seal's parameters
 * for an external miner — bytes 0–3 `A2ID`, 4–7 the memory in KiB, 8–11 the passes (big-endian
 * uint32s), 12–31 the first 20 bytes of keccak-256 of the salt (the seal's version).
 */
export function sealSeedHash(seal: { memoryKiB: number; iterations: number }): Uint8Array {
  const out = new Uint8Array(32)
  out.set(new TextEncoder().encode('A2ID'), 0)
  const view = new DataView(out.buffer)
  view.setUint32(4, seal.memoryKiB)
  view.setUint32(8, seal.iterations)
  out.set(keccak256(SEAL_SALT).subarray(0, 20), 12)
  return out
}

/** The seal parameters a seed hash from {@link sealSeedHash} carries; undefined for another seed hash. */
export function sealParamsOfSeedHash(seed: Uint8Array): { memoryKiB: number; iterations: number } | undefined {
  if (seed.length !== 32 || new TextDecoder().decode(seed.subarray(0, 4)) !== 'A2ID') return undefined
  if (bytesToHex(seed.subarray(12)) !== bytesToHex(keccak256(SEAL_SALT).subarray(0, 20))) return undefined
  const view = new DataView(seed.buffer, seed.byteOffset, 32)
  return { memoryKiB: view.getUint32(4), iterations: view.getUint32(8) }
}
