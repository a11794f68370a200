/** Simulated blocks: a few fields in RLP, hashed with keccak. Validity is a flag a byzantine proposer may clear. */
import { keccak256 } from '@cairn/crypto'
import { RLP } from '@ethereumjs/rlp'

export interface SimBlock {
  height: number
  proposer: number
  round: number
  /** Distinguishes a double proposal's two blocks. */
  variant: number
  valid: boolean
}

export function encodeBlock(b: SimBlock): Uint8Array {
  return RLP.encode([b.height, b.proposer, b.round, b.variant, b.valid ? 1 : 0])
}

export function decodeBlock(bytes: Uint8Array): SimBlock | null {
  try {
    const d = RLP.decode(bytes) as Uint8Array[]
    const n = (x: Uint8Array | undefined): number => (x === undefined ? -1 : x.reduce((a, v) => a * 256 + v, 0))
    return { height: n(d[0]), proposer: n(d[1]), round: n(d[2]), variant: n(d[3]), valid: n(d[4]) === 1 }
  } catch {
    return null
  }
}

export function blockHash(bytes: Uint8Array): Uint8Array {
  return keccak256(bytes)
}

/** The validity a node's execution would report: decodes, marked valid, and for the height under vote. */
export function isValidBlock(bytes: Uint8Array, height: number): boolean {
  const b = decodeBlock(bytes)
  return b?.valid === true && b.height === height
}
