/**
 * The engine's {@link SignatureVerifier} per scheme. Under `secp256k1` it is `createVerifier`
 * (recovery only). Under `hybrid` a message's signer is found by recovering the secp256k1 part
 * (the first 65 bytes), then the validator is looked up in the set of the message's height and the
 * ML-DSA-65 part is checked against its registered key (`verifyVoteSignature`): a signer that is
 * no member of that set, or whose ML-DSA part does not verify, is no signer (null: the message is
 * refused, not counted).
 *
 * ML-DSA verification runs on the engine's thread (~4 ms a vote on a loaded 2-core machine): the
 * recover worker pool (`RecoverPool`, `@cairn/crypto`) serves transaction senders with the native
 * backend and is not on the consensus path; moving ML-DSA to workers needs an asynchronous
 * verifier at the reactor's edge (docs/consensus/post-quantum.md, "Left").
 */
import { CairnError } from '@cairn/utils'
import { ConsensusErrorCode } from '../../errors.ts'
import type { Address } from '../messages.ts'
import { createVerifier, proposalDigest, recoverSigner, type SignatureVerifier, voteDigest } from '../signing.ts'
import type { ValidatorSet } from '../validator-set.ts'
import { SECP_SIGNATURE_BYTES, type SignatureScheme, signatureBytes } from './scheme.ts'
import { verifyVoteSignature } from './verify-vote.ts'

/**
 * The verifier of `scheme` for one chain; `validatorSetAt` is the engine's schedule (the set of a
 * message's height, with its members' ML-DSA keys).
 * @throws CairnError `CONSENSUS_BFT_INVALID_CONFIG` for `ml-dsa-65` (not yet supported: no recovery)
 */
export function createSchemeVerifier(
  chainId: bigint,
  scheme: SignatureScheme,
  validatorSetAt: (height: number) => ValidatorSet,
): SignatureVerifier {
  if (scheme === 'secp256k1') return createVerifier(chainId)
  if (scheme !== 'hybrid') {
    throw new CairnError(ConsensusErrorCode.BFT_INVALID_CONFIG, `the ${scheme} signature scheme is not yet supported`, {
      fault: 'caller',
      hint: 'use secp256k1 or hybrid (docs/consensus/post-quantum.md)',
    })
  }
  const signerOf = (digest: Uint8Array, signature: Uint8Array, height: number): Address | null => {
    if (signature.length !== signatureBytes(scheme)) return null
    const address = recoverSigner(digest, signature.subarray(0, SECP_SIGNATURE_BYTES))
    if (address === null) return null
    let set: ValidatorSet
    try {
      set = validatorSetAt(height)
    } catch {
      return null
    }
    const pqPublicKey = set.pqKeyOf(address)
    if (pqPublicKey === null) return null
    const check = verifyVoteSignature(scheme, digest, signature, { address, pqPublicKey }, { recover: () => address })
    return check.ok ? address : null
  }
  return {
    voteSigner: (vote) => signerOf(voteDigest(chainId, vote), vote.signature, vote.height),
    proposalSigner: (p) => signerOf(proposalDigest(chainId, p), p.signature, p.height),
  }
}
