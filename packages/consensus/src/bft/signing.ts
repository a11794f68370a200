/**
 * What a validator signs, and how a signer is recovered.
 *
 * A vote's digest is `keccak256(rlp(["cairn-bft-v1", chainId, height, round, type, blockHash]))`
 * with integers as RLP's minimal big-endian bytes and a nil vote's hash as the empty string. A
 * proposal's adds `polRound + 1` (so -1 encodes as 0). The digest is signed with secp256k1
 * (RFC 6979, low-s) and the signature is 65 bytes `r ‖ s ‖ v`, v = 27 + recovery id: the form
 * Solidity's `ecrecover(digest, v, r, s)` takes, so evidence and certificates can be checked on-chain.
 */
import { ecdsaRecover, keccak256, publicKeyToAddress } from '@cairn/crypto'
import { RLP } from '@ethereumjs/rlp'
import { type Address, MsgType, type Proposal, type SignedProposal, type SignedVote, type Vote } from './messages.ts'

/** The domain tag that separates Cairn BFT signatures from every other use of a validator key. */
export const BFT_DOMAIN = 'cairn-bft-v1'
const DOMAIN_BYTES = new TextEncoder().encode(BFT_DOMAIN)
const EMPTY = new Uint8Array(0)

/** The digest a vote's signature covers. */
export function voteDigest(chainId: bigint, vote: Vote): Uint8Array {
  return keccak256(RLP.encode([DOMAIN_BYTES, chainId, vote.height, vote.round, vote.type, vote.blockHash ?? EMPTY]))
}

/** The digest a proposal's signature covers (the block hash, not the block bytes). */
export function proposalDigest(chainId: bigint, p: Omit<Proposal, 'block'>): Uint8Array {
  return keccak256(
    RLP.encode([DOMAIN_BYTES, chainId, p.height, p.round, MsgType.PROPOSAL, p.blockHash, p.polRound + 1]),
  )
}

/** Signs a 32-byte digest: 65 bytes `r ‖ s ‖ v`, v = 27 + recovery id (every key signs so: @cairn/keys). */
export { signDigest } from '@cairn/keys'

/** The address that signed `digest`, or null when the signature is malformed or recovers nothing. */
export function recoverSigner(digest: Uint8Array, signature: Uint8Array): Address | null {
  if (signature.length !== 65) return null
  const v = signature[64] as number
  if (v !== 27 && v !== 28) return null
  try {
    return publicKeyToAddress(ecdsaRecover(signature.subarray(0, 64), v - 27, digest))
  } catch {
    return null
  }
}

/**
 * How the state machine learns who signed a message. The default recovers with secp256k1; a driver
 * may memoize (the simulator does) or recover on worker threads before handing messages in.
 */
export interface SignatureVerifier {
  voteSigner(vote: SignedVote): Address | null
  proposalSigner(proposal: SignedProposal): Address | null
}

/** The secp256k1 verifier for one chain. */
export function createVerifier(chainId: bigint): SignatureVerifier {
  return {
    voteSigner: (vote) => recoverSigner(voteDigest(chainId, vote), vote.signature),
    proposalSigner: (p) => recoverSigner(proposalDigest(chainId, p), p.signature),
  }
}

/** `inner`, remembering each message object's signer (a message met again is not recovered again). */
export function memoizedVerifier(inner: SignatureVerifier): SignatureVerifier {
  const votes = new WeakMap<SignedVote, Address | null>()
  const proposals = new WeakMap<SignedProposal, Address | null>()
  return {
    voteSigner: (v) => {
      const known = votes.get(v)
      if (known !== undefined) return known
      const a = inner.voteSigner(v)
      votes.set(v, a)
      return a
    },
    proposalSigner: (p) => {
      const known = proposals.get(p)
      if (known !== undefined) return known
      const a = inner.proposalSigner(p)
      proposals.set(p, a)
      return a
    },
  }
}
