import { keccak256 } from '@cairn/crypto'
import { RLP } from '@ethereumjs/rlp'
import { CacheType, MerkleStateManager, type MerkleStateManagerOpts } from '@ethereumjs/statemanager'
import {
  type Account,
  type Address,
  createAccountFromRLP,
  createAddressFromString,
  EthereumJSErrorWithoutCode,
  equalsBytes,
  KECCAK256_RLP,
  unpadBytes,
  unprefixedHexToBytes,
} from '@ethereumjs/util'
import type { TimeSlice } from '../time-slice.ts'
import { BatchTrie } from './batch-trie.ts'

/**
 * The executor's state manager: `MerkleStateManager` with the account trie read through a cache
 * of decoded nodes and written once per flush in one batch ({@link BatchTrie}) instead of one
 * `trie.put` per changed account. Storage tries and code are the base class's. The account
 * cache (in front of the trie) is the base class's too: the state root is computed when the
 * block asks for it, once per block.
 *
 * A storage write goes to the storage cache only, when that cache is an unbounded ordered map (as
 * the executor's is): the base class's `putStorage` writes the cache AND the contract's storage
 * trie at once (`cache.put(…) ?? write(…)`: the cache's `put` returns nothing), then the flush
 * writes it to the trie again. Reads take the cache first, so they see the write either way;
 * what reads a storage trie directly (proofs, dumps) reads committed state, after a flush.
 *
 * A storage write of zero to a contract whose storage trie is empty is dropped before the base
 * class's flush: it deletes a key that is not there (the keys of one flush are distinct, so no
 * other write of the flush put it there), and the base class's delete on an empty trie walks to
 * a root node that is not stored and throws and catches "Missing node in DB" for it. Prague's
 * request contracts (EIP-7002, EIP-7251) write four such zeros each at every block's end.
 */
export class BatchedStateManager extends MerkleStateManager {
  private readonly accounts: BatchTrie
  /** Set by the executor while it finishes a block: the account trie's update lets I/O in (see TimeSlice). */
  slice: TimeSlice | undefined

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

  override async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    const storage = this._caches?.storage
    // A bounded cache may evict an entry before its flush: the trie must hold it then.
    if (storage === undefined || this._caches?.settings.storage.type !== CacheType.ORDERED_MAP) {
      return super.putStorage(address, key, value)
    }
    if (key.length !== 32) throw EthereumJSErrorWithoutCode('Storage key must be 32 bytes long')
    if (value.length > 32) throw EthereumJSErrorWithoutCode('Storage value cannot be longer than 32 bytes')
    if ((await this.getAccount(address)) === undefined) {
      throw EthereumJSErrorWithoutCode('putStorage() called on non-existing account')
    }
    storage.put(address, key, RLP.encode(unpadBytes(value)))
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
    const storage = this._caches?.storage
    const writes = storage ? await this.effectiveStorageWrites(storage.flush()) : []
    if (storage) storage.flush = () => writes
    try {
      await super.flush()
    } finally {
      delete (cache as { flush?: unknown }).flush
      if (storage) delete (storage as { flush?: unknown }).flush
    }
    await this.accounts.update(
      items.map(([address, elem]) => ({
        key: keccak256(unprefixedHexToBytes(address)),
        value: elem.accountRLP ?? null,
      })),
      this.slice,
    )
  }

  /** The storage cache's flushed writes without the deletes from empty storage tries (see the class). */
  private async effectiveStorageWrites<T extends [string, string, Uint8Array | undefined]>(items: T[]): Promise<T[]> {
    const emptyStorage = new Map<string, boolean>()
    const kept: T[] = []
    for (const item of items) {
      const [addressHex, , value] = item
      // The base class writes RLP.decode(value): empty for 0x80 (a zero) and for no value.
      if (value === undefined || value.length === 0 || (value.length === 1 && value[0] === 0x80)) {
        let empty = emptyStorage.get(addressHex)
        if (empty === undefined) {
          const account = await this.getAccount(createAddressFromString(`0x${addressHex}`))
          empty = account !== undefined && equalsBytes(account.storageRoot, KECCAK256_RLP)
          emptyStorage.set(addressHex, empty)
        }
        if (empty) continue
      }
      kept.push(item)
    }
    return kept
  }
}
