import { keccak256 } from '@cairn/crypto'
import { MerkleStateManager, type MerkleStateManagerOpts } from '@ethereumjs/statemanager'
import { type Account, type Address, createAccountFromRLP, unprefixedHexToBytes } from '@ethereumjs/util'
import { BatchTrie } from './batch-trie.ts'

/**
 * The executor's state manager: `MerkleStateManager` with the account trie read through a cache
 * of decoded nodes and written once per flush in one batch ({@link BatchTrie}) instead of one
 * `trie.put` per changed account. Storage tries and code are the base class's. The account
 * cache (in front of the trie) is the base class's too: the state root is computed when the
 * block asks for it, once per block.
 */
export class BatchedStateManager extends MerkleStateManager {
  private readonly accounts: BatchTrie

  constructor(opts: MerkleStateManagerOpts) {
    super(opts)
    this.accounts = new BatchTrie(this._trie)
  }

  override async getAccount(address: Address): Promise<Account | undefined> {
    const cache = this._caches?.account
    if (cache === undefined) return super.getAccount(address)
    const elem = cache.get(address)
    // A hit, as the base class reads it.
    if (elem !== undefined) return elem.accountRLP !== undefined ? createAccountFromRLP(elem.accountRLP) : undefined
    const rlp = await this.accounts.get(keccak256(address.bytes))
    const account = rlp !== null ? createAccountFromRLP(rlp) : undefined
    cache.put(address, account)
    return account
  }

  override async flush(): Promise<void> {
    const cache = this._caches?.account
    if (cache === undefined) return super.flush()
    // The base class flushes code and storage first (they update accounts), then the accounts:
    // take those over, as one batch.
    const flushAccounts = cache.flush.bind(cache)
    let items: ReturnType<typeof flushAccounts> = []
    cache.flush = () => {
      items = flushAccounts()
      return []
    }
    try {
      await super.flush()
    } finally {
      delete (cache as { flush?: unknown }).flush
    }
    await this.accounts.update(
      items.map(([address, elem]) => ({
        key: keccak256(unprefixedHexToBytes(address)),
        value: elem.accountRLP ?? null,
      })),
    )
  }
}
