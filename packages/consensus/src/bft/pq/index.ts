/**
 * Post-quantum consensus signatures (ML-DSA-65, alone or hybrid with secp256k1): the scheme, the
 * hybrid format, vote-signature verification, certificates per scheme and the engine's verifier.
 * The keys that sign under a scheme (`hybridDigestKey`, `mlDsaDigestKey`) are
 * `@cairn/consensus/privval`'s. The engine runs `secp256k1` and `hybrid`; `ml-dsa-65` alone is
 * refused at genesis (docs/consensus/post-quantum.md).
 */

export type { DigestKey } from '@cairn/keys'
export { rawDigestKey } from '@cairn/keys'
export { decodeSchemeCertificate, verifySchemeCertificate } from '../certificate.ts'
export type { HybridSignatureParts } from './hybrid.ts'
export { joinHybridSignature, splitHybridSignature } from './hybrid.ts'
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
export type { RefusedValidatorChange } from './scheme-changes.ts'
export { admitValidatorChanges } from './scheme-changes.ts'
export { createSchemeVerifier } from './scheme-verifier.ts'
export type { VerifyVoteSignatureModules, VoteSignatureCheck, VoteSignatureFailure } from './verify-vote.ts'
export { verifyVoteSignature } from './verify-vote.ts'
