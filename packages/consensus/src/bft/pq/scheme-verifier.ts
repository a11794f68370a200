/**
 * The engine's {@link SignatureVerifier} per scheme. Under `secp256k1` it is `createVerifier`
 * (recovery only). Under `hybrid` a message's signer is found by recovering the secp256k1 part
 * (the first 65 bytes), then the validator is looked up in the set of the message's height and the
 * ML-DSA-65 part is checked against its registered key (`verifyVoteSignature`): a signer that is
 * no member of that set, or whose ML-DSA part does not verify, is no signer (null: the message is
 * refused, not counted). Under `ml-dsa-65` (no recovery) the message names its signer
 * (`validator`): a name that is no member of the set of the message's height, or a signature that
 * does not verify under that member's key, is no signer either.
 *
 * ML-DSA verification runs on the engine's thread (~4 ms a vote on a loaded 2-core machine): the
 * recover worker pool (`RecoverPool`, `@cairn/crypto`) serves transaction senders with the native
 * backend and is not on the consensus path; moving ML-DSA to workers needs an asynchronous
 * verifier at the reactor's edge (docs/consensus/post-quantum.md, "Left").
 */
import type { Address } from '../messages.ts'
import { createVerifier, proposalDigest, recoverSigner, type SignatureVerifier, voteDigest } from '../signing.ts'
import type { ValidatorSet } from '../validator-set.ts'
import { SECP_SIGNATURE_BYTES, type SignatureScheme, signatureBytes } from './scheme.ts'
import { verifyVoteSignature } from './verify-vote.ts'

/**
 * The verifier of `scheme` for one chain; `validatorSetAt` is the engine's schedule (the set of a
 * message's height, with its members' ML-DSA keys). Under `ml-dsa-65` a message names its signer
 * (`validator`, carried on the wire): that address must be a member of the set of the message's
 * height, and the signature must verify under its registered key; otherwise there is no signer.
 */
export function createSchemeVerifier(
  chainId: bigint,
  scheme: SignatureScheme,
  validatorSetAt: (height: number) => ValidatorSet,
): SignatureVerifier {
  if (scheme === 'secp256k1') return createVerifier(chainId)
  const setOf = (height: number): ValidatorSet | null => {
    try {
      return validatorSetAt(height)
    } catch {
      return null
    }
  }
  const check = (digest: Uint8Array, signature: Uint8Array, address: Address, set: ValidatorSet): Address | null => {
    const pqPublicKey = set.pqKeyOf(address)
    if (pqPublicKey === null) return null
    const result = verifyVoteSignature(scheme, digest, signature, { address, pqPublicKey }, { recover: () => address })
    return result.ok ? address : null
  }
  const signerOf = (
    digest: Uint8Array,
    signature: Uint8Array,
    height: number,
    claimed: Address | undefined,
  ): Address | null => {
    if (signature.length !== signatureBytes(scheme)) return null
    if (scheme === 'ml-dsa-65') {
      // No recovery: the claimed member's key decides.
      if (claimed === undefined || claimed.length !== 20) return null
      const set = setOf(height)
      if (set === null || set.indexOf(claimed) < 0) return null
      return check(digest, signature, claimed, set)
    }
    const address = recoverSigner(digest, signature.subarray(0, SECP_SIGNATURE_BYTES))
    if (address === null) return null
    const set = setOf(height)
    return set === null ? null : check(digest, signature, address, set)
  }
  return {
    voteSigner: (vote) => signerOf(voteDigest(chainId, vote), vote.signature, vote.height, vote.validator),
    proposalSigner: (p) => signerOf(proposalDigest(chainId, p), p.signature, p.height, p.validator),
  }
}
