/**
 * The possession proof of a consensus key rotation (`Staking.rotateConsensusKey`): the new key
 * signs `keccak256(0x19 ‖ "cairn-consensus-key-rotation-v1" ‖ chainId ‖ staking ‖ operator ‖ new
 * address)` (packed: the chain id as 32 bytes, the addresses as 20), 65 bytes `r ‖ s ‖ v`, v 27/28.
 * The contract recovers the signer with `ecrecover` and wants the new address: a validator cannot
 * claim a key it does not hold, and the proof names the chain, the contract and the operator, so it
 * cannot be replayed elsewhere. The leading 0x19 keeps the digest apart from a vote's (an RLP list,
 * first byte ≥ 0xc0) and from any transaction (docs/consensus/staking.md, "Key rotation").
 */
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { concatBytes } from '@cairn/utils'
import { signDigest } from '../bft/signing.ts'

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
