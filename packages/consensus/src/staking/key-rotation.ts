/**
 * The possession proof of a consensus key rotation (`Staking.rotateConsensusKey`): the new key
 * signs `keccak256(0x19 ‖ "cairn-consensus-key-rotation-v1" ‖ chainId ‖ staking ‖ operator ‖ new
 * address)` (packed: the chain id as 32 bytes, the addresses as 20), 65 bytes `r ‖ s ‖ v`, v 27/28.
 * The contract recovers the signer with `ecrecover` and wants the new address: a validator cannot
 * claim a key it does not hold, and the proof names the chain, the contract and the operator, so it
 * cannot be replayed elsewhere. The leading 0x19 keeps the digest apart from a vote's (an RLP list,
 * first byte ≥ 0xc0) and from any transaction (docs/consensus/staking.md, "Key rotation").
 *
 * On a hybrid or ml-dsa-65 chain the rotation also registers the new key's ML-DSA-65 public key
 * (`rotateConsensusKey(newConsensusAddr, proof, pqPublicKey)`, {@link pqRotationArgs}): under
 * hybrid with the secp256k1 proof above, under ml-dsa-65 with none (the new address is the key's
 * `pqAddress`; the EVM cannot verify an ML-DSA signature, and none is needed: ML-DSA signatures
 * are never aggregated, so a copied public key, which cannot sign, gains nothing).
 */
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { concatBytes } from '@cairn/utils'
import { pqAddress } from '../bft/pq/scheme.ts'
import { signDigest } from '../bft/signing.ts'
import { mlDsaDigestKey } from '../privval/pq-digest-key.ts'

export const ROTATION_DOMAIN = 'cairn-consensus-key-rotation-v1'

function word(x: bigint): Uint8Array {
  const out = new Uint8Array(32)
  let v = x
  for (let i = 31; i >= 0 && v > 0n; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** The digest the new key signs (the contract's `rotationDigest(operator, newConsensusAddr)`). */
export function rotationDigest(
  chainId: bigint,
  staking: Uint8Array,
  operator: Uint8Array,
  newConsensusAddr: Uint8Array,
): Uint8Array {
  return keccak256(
    concatBytes(
      Uint8Array.of(0x19),
      new TextEncoder().encode(ROTATION_DOMAIN),
      word(chainId),
      staking,
      operator,
      newConsensusAddr,
    ),
  )
}

/** The new key's possession proof for `operator`'s rotation on `chainId`'s staking contract. */
export function rotationProof(
  chainId: bigint,
  staking: Uint8Array,
  operator: Uint8Array,
  newKey: Uint8Array,
): { newConsensusAddr: Uint8Array; proof: Uint8Array } {
  const newConsensusAddr = privateKeyToAddress(newKey)
  return { newConsensusAddr, proof: signDigest(rotationDigest(chainId, staking, operator, newConsensusAddr), newKey) }
}

/** The next consensus key of a post-quantum chain: its ML-DSA seed, and under hybrid its secp256k1 key. */
export type PqNextKey =
  | { scheme: 'hybrid'; key: Uint8Array; pqSeed: Uint8Array }
  | { scheme: 'ml-dsa-65'; pqSeed: Uint8Array }

/**
 * The arguments of `Staking.rotateConsensusKey(newConsensusAddr, proof, pqPublicKey)` for
 * `operator`'s rotation to `next` on a hybrid or ml-dsa-65 chain: under hybrid the secp256k1 key's
 * address and possession proof ({@link rotationProof}); under ml-dsa-65 the seed's `pqAddress` and
 * an empty proof. `pqPublicKey` is the seed's ML-DSA-65 public key (1,952 bytes).
 */
export function pqRotationArgs(
  chainId: bigint,
  staking: Uint8Array,
  operator: Uint8Array,
  next: PqNextKey,
): { newConsensusAddr: Uint8Array; proof: Uint8Array; pqPublicKey: Uint8Array } {
  const pqPublicKey = mlDsaDigestKey({ pqSeed: next.pqSeed }).pqPublicKey as Uint8Array
  if (next.scheme === 'ml-dsa-65')
    return { newConsensusAddr: pqAddress(pqPublicKey), proof: new Uint8Array(), pqPublicKey }
  return { ...rotationProof(chainId, staking, operator, next.key), pqPublicKey }
}
