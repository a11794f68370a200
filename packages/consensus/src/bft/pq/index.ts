/**
 * Post-quantum consensus signatures (ML-DSA-65, alone or hybrid with secp256k1): the scheme, the
 * hybrid format, vote-signature verification, certificates per scheme and the signer keys. Not yet
 * wired into the engine: see docs/consensus/post-quantum.md.
 */
export type { HybridSignatureParts } from './hybrid.ts'
export { joinHybridSignature, splitHybridSignature } from './hybrid.ts'
export type {
  HybridDigestKeyOptions,
  PqDigestKeyModules,
  PqDigestKeyOptions,
  SchemeDigestKey,
} from './pq-digest-key.ts'
export { hybridDigestKey, mlDsaDigestKey } from './pq-digest-key.ts'
export type { PqValidator, SignatureScheme, VoteSignerIdentity } from './scheme.ts'
export {
  BFT_PQ_CONTEXT,
  checkPqValidatorEntry,
  HYBRID_SIGNATURE_BYTES,
  needsPqKeys,
  parseSignatureScheme,
  pqAddress,
  SECP_SIGNATURE_BYTES,
  SIGNATURE_SCHEMES,
  signatureBytes,
} from './scheme.ts'
export { decodeSchemeCertificate, verifySchemeCertificate } from './scheme-certificate.ts'
export type { VerifyVoteSignatureModules, VoteSignatureCheck, VoteSignatureFailure } from './verify-vote.ts'
export { verifyVoteSignature } from './verify-vote.ts'
