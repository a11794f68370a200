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
export type { ForkChoice, WorkHeader, WorkTip } from './fork-choice.ts'
export { heaviestHead, prefersHead, workHeader } from './fork-choice.ts'
export type { PowChainParams } from './params.ts'
export { DEFAULT_POW_CONFIG, genesisAnchor, parsePowConfig, powConfigJson, powConfigSchema } from './params.ts'
export type { Seal, SealParams } from './seal.ts'
export {
  checkDifficulty,
  checkSealParams,
  DEFAULT_SEAL_PARAMS,
  nonceBytes,
  proofValue,
  SEAL_PARAM_BOUNDS,
  SEAL_SALT,
  sealHash,
  sealProof,
  trySeal,
  trySealHash,
  verifySeal,
  withSeal,
} from './seal.ts'
export { workOf } from './work.ts'
