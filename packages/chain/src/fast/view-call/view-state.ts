import { RLP } from '@ethereumjs/rlp'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import type { Address } from '@ethereumjs/util'
import type { SlotReader, ViewState } from './interpreter.ts'
import type { TrieReader } from './trie-reader.ts'

const ZERO = new Uint8Array(0)

/**
 * The state a view call reads at one state root: code through the root's shared read view (its
 * caches), storage straight from the account's storage trie ({@link TrieReader}, no promise per
 * read), or through the read view where a node is not in the store.
 */
export class ViewStateReader implements ViewState {
  constructor(
    private readonly view: MerkleStateManager,
    private readonly trie: TrieReader,
    private readonly keccak256: (data: Uint8Array) => Uint8Array,
  ) {}

  getCode(address: Address): Promise<Uint8Array> {
    return this.view.getCode(address)
  }

  async storageOf(address: Address): Promise<SlotReader> {
    const account = await this.view.getAccount(address)
    if (account === undefined) return () => ZERO
    const root = account.storageRoot
    return (key) => {
      const leaf = this.trie.get(root, this.keccak256(key))
      if (leaf === undefined) return this.view.getStorage(address, key)
      return leaf === null ? ZERO : (RLP.decode(leaf) as Uint8Array)
    }
  }
}
