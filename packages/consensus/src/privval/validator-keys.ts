/**
 * The validator's key files in the datadir (`@cairn/consensus/validator-keys`): the key
 * (`validator.key`, key-file.ts), a height-scheduled rotation (validator-rotation.ts), the ML-DSA
 * seeds (pq-seed-file.ts, hsm-pq-seeds.ts) and the promotion of the next key once the chain
 * rotated (promote-next-key.ts). Part of `privval/`; an entry of its own so that the node's key
 * commands and its start read the files without loading the signers.
 */
export type { HsmPqSeeds } from './hsm-pq-seeds.ts'
export { checkHsmPqSeedFiles, hsmPqSeeds } from './hsm-pq-seeds.ts'
export type { KeyFile } from './key-file.ts'
export { checkKeyFilePermissions, loadOrCreateKey } from './key-file.ts'
export {
  loadOrCreatePqSeed,
  loadPqSeed,
  PQ_NEXT_SEED_FILE,
  PQ_SEED_FILE,
  pqNextSeedPath,
  pqSeedPath,
  retiredPqSeedName,
} from './pq-seed-file.ts'
export type {
  HeadSource,
  NextKeyPromotionModules,
  PromotedKeys,
  PromotionKeys,
  ValidatorSetView,
} from './promote-next-key.ts'
export {
  movePqSeed,
  NextKeyPromotion,
  nextKeyPromotion,
  pqNextKeyPromotion,
  pqSeedAddress,
  promoteHsmPqSeeds,
  promoteNextKeyFile,
  promoteNextPqKeyFiles,
  recoverKeyPromotion,
  retiredKeyFiles,
  retiredKeyName,
} from './promote-next-key.ts'
export type { ValidatorKeys } from './validator-rotation.ts'
export { loadValidatorKeys, scheduleValidatorRotation } from './validator-rotation.ts'
