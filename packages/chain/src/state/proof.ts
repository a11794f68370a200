import { getMerkleStateProof, type MerkleStateManager } from '@ethereumjs/statemanager'
import { Address } from '@ethereumjs/util'
import { forkOfState } from './remote-trie.ts'

/** An EIP-1186 account proof (eth_getProof), hex-encoded. */
export interface AccountProof {
  address: string
  balance: string
  codeHash: string
  nonce: string
  storageHash: string
  accountProof: string[]
  storageProof: { key: string; value: string; proof: string[] }[]
}

/**
 * The Merkle proof of `address` and of its storage `slots` (32-byte keys) in the state `state`
 * (a view from `StateViews.stateAt(root)`): every trie node from the root to the leaf, so that a
 * verifier holding only the block's state root can check balance, nonce, code hash and storage.
 */
export async function accountProof(
  state: MerkleStateManager,
  address: Uint8Array,
  slots: Uint8Array[],
): Promise<AccountProof> {
  // Fork mode: the proof walks the trie itself (the account and each slot fetched first).
  await forkOfState(state)?.ensure(address, slots)
  return getMerkleStateProof(state, new Address(address), slots)
}
