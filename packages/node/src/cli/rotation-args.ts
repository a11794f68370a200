/**
 * The arguments of `Staking.rotateConsensusKey` as the signer machine's commands print them
 * (`cairn signer rotation-proof`, `cairn signer hsm rotation-proof`): the new consensus address, its
 * possession proof and, on a hybrid or ml-dsa-65 chain, the new ML-DSA-65 public key — for the
 * operator to send with `cast send` (docs/operations/keys.md). Only public values: the proof is
 * bound to the chain, the staking contract and the operator.
 */
import { STAKING_ADDRESS } from '@cairn/contracts'
import { toChecksumAddress } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'

export interface RotationArgs {
  newConsensusAddr: Uint8Array
  /** The secp256k1 possession proof (empty under ml-dsa-65). */
  proof: Uint8Array
  /** The new ML-DSA-65 public key on a hybrid or ml-dsa-65 chain; null on a secp256k1 chain. */
  pqPublicKey: Uint8Array | null
}

/** The text (or with `json` one JSON object) a rotation-proof command prints. */
export function formatRotationArgs(args: RotationArgs, json: boolean): string {
  const address = toChecksumAddress(bytesToHex(args.newConsensusAddr))
  const proof = bytesToHex(args.proof)
  const pq = args.pqPublicKey === null ? null : bytesToHex(args.pqPublicKey)
  if (json) {
    return `${JSON.stringify({ newConsensusAddress: address, proof, ...(pq !== null ? { pqPublicKey: pq } : {}) })}\n`
  }
  const call =
    pq === null
      ? `cast send ${STAKING_ADDRESS} 'rotateConsensusKey(address,bytes)' ${address} ${proof}`
      : `cast send ${STAKING_ADDRESS} 'rotateConsensusKey(address,bytes,bytes)' ${address} ${proof} ${pq}`
  return (
    `NewConsensusAddress: ${address}\nProof:               ${proof}\n` +
    (pq !== null ? `PqPublicKey:         ${pq}\n` : '') +
    `Send it as the operator (after the node signs with both keys):\n  ${call} --private-key …\n`
  )
}
