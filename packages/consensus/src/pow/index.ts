/**
 * Proof of work's engine-independent parts (`@cairn/consensus/pow`): compact targets, ASERT
 * difficulty, the memory-hard seal, work and heaviest-work fork choice. The PoW and GhostDAG
 * engines build on these; none of them reads a chain, a clock or a pool.
 */
export type { AsertAnchor, AsertParams, AsertTip } from './asert.ts'
export { ASERT_MAX_SCHEDULE_OFFSET, ASERT_SPEC_PARAMS, asertTarget, nextAsertBits, nextAsertTarget } from './asert.ts'
export type { DecodedBits } from './compact-bits.ts'
export {
  bitsFromTarget,
  decodeBits,
  formatBits,
  parseBits,
  roundTarget,
  TWO_256,
  targetFromBits,
} from './compact-bits.ts'
export { PowErrorCode } from './errors.ts'
