/**
 * Whether a consensus signature (a vote's or a proposal's) is by a given validator, under the
 * chain's scheme, with the reason when it is not. Checks run cheapest first: the length, then the
 * secp256k1 recovery (~0.1 ms), then ML-DSA-65 (~1-10 ms), so junk costs little.
 */
import { ML_DSA65_PUBLIC_KEY_BYTES, mlDsa65Verify } from '@cairn/crypto'
import { hashKey } from '../messages.ts'
import { recoverSigner } from '../signing.ts'
import { splitHybridSignature } from './hybrid.ts'
import { BFT_PQ_CONTEXT, type SignatureScheme, signatureBytes, type VoteSignerIdentity } from './scheme.ts'

/** Why a signature is not the validator's. */
export type VoteSignatureFailure =
  /** Not the scheme's length (65, 3,309 or 3,374 bytes). */
  | 'wrong-length'
  /** The secp256k1 part recovers no key (bad v, r or s). */
  | 'secp-unrecoverable'
  /** The secp256k1 part recovers another address. */
  | 'secp-wrong-signer'
  /** The scheme needs the validator's ML-DSA key and the set has none for it. */
  | 'pq-key-missing'
  /** The validator's registered ML-DSA key is not 1,952 bytes. */
  | 'pq-key-malformed'
  /** The ML-DSA-65 part does not verify under the validator's key and the BFT context. */
  | 'pq-invalid'

export type VoteSignatureCheck = { ok: true } | { ok: false; reason: VoteSignatureFailure; message: string }

export interface VerifyVoteSignatureModules {
  /** The secp256k1 recovery (a cache may wrap it); defaults to `recoverSigner` (signing.ts). */
  recover?: (digest: Uint8Array, signature: Uint8Array) => Uint8Array | null
}

const OK: VoteSignatureCheck = { ok: true }

function failure(reason: VoteSignatureFailure, message: string): VoteSignatureCheck {
  return { ok: false, reason, message }
}

/**
 * Checks that `signature` over `digest` (`voteDigest` or `proposalDigest`, which already bind the
 * chain id and the BFT domain) is by `signer` under `scheme`. Never throws for a bad signature:
 * the result says why it is refused.
 * @example
 * const check = verifyVoteSignature('hybrid', voteDigest(chainId, vote), vote.signature, validator)
 * if (!check.ok) drop(vote, check.reason)
 */
export function verifyVoteSignature(
  scheme: SignatureScheme,
  digest: Uint8Array,
  signature: Uint8Array,
  signer: VoteSignerIdentity,
  modules: VerifyVoteSignatureModules = {},
): VoteSignatureCheck {
  const expected = signatureBytes(scheme)
  if (signature.length !== expected) {
    return failure('wrong-length', `a ${scheme} signature is ${expected} bytes, got ${signature.length}`)
  }
  let pq = signature
  if (scheme !== 'ml-dsa-65') {
    const parts = scheme === 'hybrid' ? splitHybridSignature(signature) : { secp: signature, pq: signature }
    if (parts === null) return failure('wrong-length', `a hybrid signature is ${expected} bytes`)
    const recovered = (modules.recover ?? recoverSigner)(digest, parts.secp)
    if (recovered === null) return failure('secp-unrecoverable', 'the secp256k1 signature recovers no key')
    if (hashKey(recovered) !== hashKey(signer.address)) {
      return failure(
        'secp-wrong-signer',
        `the secp256k1 signature is by ${hashKey(recovered)}, not validator ${hashKey(signer.address)}`,
      )
    }
    if (scheme === 'secp256k1') return OK
    pq = parts.pq
  }
  const key = signer.pqPublicKey
  if (key === null) {
    return failure('pq-key-missing', `validator ${hashKey(signer.address)} has no ML-DSA-65 key in the set`)
  }
  if (key.length !== ML_DSA65_PUBLIC_KEY_BYTES) {
    return failure(
      'pq-key-malformed',
      `validator ${hashKey(signer.address)}'s ML-DSA-65 key is ${key.length} bytes, not ${ML_DSA65_PUBLIC_KEY_BYTES}`,
    )
  }
  if (!mlDsa65Verify(pq, digest, key, { context: BFT_PQ_CONTEXT })) {
    return failure(
      'pq-invalid',
      `the ML-DSA-65 signature does not verify under validator ${hashKey(signer.address)}'s key`,
    )
  }
  return OK
}
