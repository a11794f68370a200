/**
 * @cairn/reserves/verifier: checks a proof of liabilities (format v1) anywhere JavaScript runs —
 * Node, browsers, workers. No Node-only API; its only dependency is @noble/hashes.
 */
export { leafHash, nodeHash, paddingHash, TAG_LEAF, TAG_NODE, TAG_PADDING, TAG_USER, userHash } from './encoding.ts'
export type { HashFn, HashName } from './hash.ts'
export { HASH_NAMES, portableHash } from './hash.ts'
export { fromHex, sameBytes, toHex } from './hex.ts'
export type { Currency, ParseResult, ProofNode, ProofV1 } from './proof.ts'
export { MAX_CURRENCIES, MAX_DEPTH, MAX_USER_ID_BYTES, parseProof } from './proof.ts'
export {
  addBalancesInto,
  decodeBalances,
  encodeBalances,
  isU128,
  parseAmount,
  readU128,
  U128_BYTES,
  U128_LIMIT,
  writeU128,
} from './u128.ts'
export type { VerifyOptions, VerifyResult, VerifyStep } from './verify.ts'
export { verifyProof } from './verify.ts'
