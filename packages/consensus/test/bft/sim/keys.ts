/**
 * Validator keys and cheap signatures for the simulator: real secp256k1, memoized. Keys and block
 * contents are the same in every seed, so most (key, digest) pairs repeat across seeds and each is
 * signed and recovered once per process.
 */
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import {
  type Address,
  createVerifier,
  hashKey,
  type SignatureVerifier,
  type SignedProposal,
  type SignedVote,
  signDigest,
} from '../../../src/index.ts'

export interface SimKey {
  privateKey: Uint8Array
  address: Address
}

const keys: SimKey[] = []

/** The i-th simulated validator key (deterministic). */
export function simKey(i: number): SimKey {
  for (let k = keys.length; k <= i; k++) {
    const privateKey = keccak256(new TextEncoder().encode(`cairn-bft-sim-key-${k}`))
    keys.push({ privateKey, address: privateKeyToAddress(privateKey) })
  }
  return keys[i] as SimKey
}

const signatures = new Map<string, Uint8Array>()

/** secp256k1 signing of a digest with key i, memoized. */
export function memoSign(i: number, digest: Uint8Array): Uint8Array {
  const k = `${i}:${hashKey(digest)}`
  let sig = signatures.get(k)
  if (sig === undefined) {
    sig = signDigest(digest, simKey(i).privateKey)
    signatures.set(k, sig)
  }
  return sig
}

const verifiers = new Map<bigint, SignatureVerifier>()

/** The secp256k1 verifier, memoized by the signed fields and the signature (chain id fixed per verifier). */
export function memoVerifier(chainId: bigint): SignatureVerifier {
  let v = verifiers.get(chainId)
  if (v !== undefined) return v
  const real = createVerifier(chainId)
  const byVote = new Map<string, Address | null>()
  const byProposal = new Map<string, Address | null>()
  v = {
    voteSigner(vote: SignedVote) {
      const k = `${vote.type}/${vote.height}/${vote.round}/${hashKey(vote.blockHash)}/${hashKey(vote.signature)}`
      let a = byVote.get(k)
      if (a === undefined) {
        a = real.voteSigner(vote)
        byVote.set(k, a)
      }
      return a
    },
    proposalSigner(p: SignedProposal) {
      const k = `${p.height}/${p.round}/${p.polRound}/${hashKey(p.blockHash)}/${hashKey(p.signature)}`
      let a = byProposal.get(k)
      if (a === undefined) {
        a = real.proposalSigner(p)
        byProposal.set(k, a)
      }
      return a
    },
  }
  verifiers.set(chainId, v)
  return v
}

const recovered = new Map<string, Address | null>()

/** `recoverSigner`-shaped memo for certificate checks. */
export function memoRecover(real: (d: Uint8Array, s: Uint8Array) => Address | null) {
  return (digest: Uint8Array, signature: Uint8Array): Address | null => {
    const k = `${hashKey(digest)}/${hashKey(signature)}`
    let a = recovered.get(k)
    if (a === undefined) {
      a = real(digest, signature)
      recovered.set(k, a)
    }
    return a
  }
}
