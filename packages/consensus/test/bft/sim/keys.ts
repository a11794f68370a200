/**
 * Validator keys and signatures for the simulator, two schemes behind one interface:
 * - `secp256k1`: the real thing, memoized (keys and block contents repeat across seeds, so many
 *   (key, digest) pairs are signed and recovered once per process);
 * - `fast`: a keyed hash standing in for a signature (`keccak(privateKey ‖ digest)`, then the
 *   signer's index), about 20× cheaper, for the many-seed runs. The protocol logic under test is the
 *   same; the real scheme runs in its own seeds and in the unit tests of signing, certificates and evidence.
 */
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import {
  type Address,
  createVerifier,
  hashKey,
  proposalDigest,
  recoverSigner as realRecover,
  type SignatureVerifier,
  type SignedProposal,
  type SignedVote,
  signDigest,
  voteDigest,
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

/** How the simulated validators sign and verify. */
export interface SimCrypto {
  sign(i: number, digest: Uint8Array): Uint8Array
  verifier(chainId: bigint): SignatureVerifier
  /** `recoverSigner`-shaped, for certificate and evidence checks. */
  recover(digest: Uint8Array, signature: Uint8Array): Address | null
}

/** Wraps a verifier with a per-object memo (one signed message reaches every peer as the same object). */
function objectMemo(v: SignatureVerifier): SignatureVerifier {
  const votes = new WeakMap<SignedVote, Address | null>()
  const proposals = new WeakMap<SignedProposal, Address | null>()
  return {
    voteSigner(vote) {
      let a = votes.get(vote)
      if (a === undefined) {
        a = v.voteSigner(vote)
        votes.set(vote, a)
      }
      return a
    },
    proposalSigner(p) {
      let a = proposals.get(p)
      if (a === undefined) {
        a = v.proposalSigner(p)
        proposals.set(p, a)
      }
      return a
    },
  }
}

export function secpCrypto(chainId: bigint): SimCrypto {
  const recover = memoRecover(realRecover)
  const verifier = objectMemo(memoVerifier(chainId))
  return { sign: memoSign, verifier: () => verifier, recover }
}

function fastSig(i: number, digest: Uint8Array): Uint8Array {
  const key = simKey(i).privateKey
  const buf = new Uint8Array(64)
  buf.set(key, 0)
  buf.set(digest, 32)
  const sig = new Uint8Array(65)
  sig.set(keccak256(buf), 0)
  sig[64] = i
  return sig
}

function fastRecover(digest: Uint8Array, sig: Uint8Array): Address | null {
  if (sig.length !== 65) return null
  const i = sig[64] as number
  const expect = fastSig(i, digest)
  for (let k = 0; k < 32; k++) if (expect[k] !== sig[k]) return null
  return simKey(i).address
}

export function fastCrypto(chainId: bigint): SimCrypto {
  const verifier = objectMemo({
    voteSigner: (v) => fastRecover(voteDigest(chainId, v), v.signature),
    proposalSigner: (p) => fastRecover(proposalDigest(chainId, p), p.signature),
  })
  return { sign: fastSig, verifier: () => verifier, recover: fastRecover }
}
