/**
 * The proof verifier (format v1), re-exported from `@cairn/reserves/verifier`: no Node API, only
 * `@noble/hashes`, so it runs in browsers, workers and Node alike. The service's code is not
 * imported: that subpath holds only the verifier's files.
 */
export type {
  Currency,
  HashName,
  ProofNode,
  ProofV1,
  VerifyOptions,
  VerifyResult,
  VerifyStep,
} from '@cairn/reserves/verifier'
export { HASH_NAMES, parseProof, verifyProof } from '@cairn/reserves/verifier'
