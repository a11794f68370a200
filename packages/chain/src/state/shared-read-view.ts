import { MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, type Address, createAccountFromRLP } from '@ethereumjs/util'

const EMPTY = new Uint8Array(0)

/** Past this many pending cache entries a read-only view forgets them (it never flushes). */
const MAX_DIFF_ENTRIES = 1024

/**
 * A read-only state view shared by RPC reads, proofs and the pool at one state root
 * (`StateViews.stateAt`), in both modes (a fresh one per read in reference mode). Its caches are LRU-bounded, but `@ethereumjs/statemanager` also records
 * every cached read in the caches' level-0 "diff" (what a flush would write back), and a view
 * that is never written never flushes: those records would grow with every distinct account read.
 * Nothing is ever written here, so they are dropped as they pile up.
 *
 * A cached account is decoded once: `@ethereumjs/statemanager` keeps accounts as RLP and decodes
 * them on every read (RLP decoding was two thirds of an `eth_getBalance`). Each caller still gets
 * its own `Account` object (the VM mutates the one it reads before writing it back), made from the
 * decoded fields exactly as `createAccountFromRLP` makes it.
 */
export class SharedReadView extends MerkleStateManager {
  /** Decoded accounts by the cached RLP object they came from (dropped with it). */
  private readonly decoded = new WeakMap<Uint8Array, Account>()

  override async getAccount(address: Address): Promise<Account | undefined> {
    const cached = this.cachedAccount(address)
    if (cached !== undefined) {
      return cached === null
        ? undefined
        : new Account(cached.nonce, cached.balance, cached.storageRoot, cached.codeHash)
    }
    const account = await super.getAccount(address)
    this.trimDiffs()
    return account
  }

  /**
   * The account at `address` if this view's cache holds it: `null` when it holds its absence,
   * `undefined` when it does not know. Shared with other readers: not to be written.
   */
  cachedAccount(address: Address): Readonly<Account> | null | undefined {
    const elem = this._caches?.account?.get(address)
    if (elem === undefined) return undefined
    const rlp = elem.accountRLP
    if (rlp === undefined) return null
    let account = this.decoded.get(rlp)
    if (account === undefined) {
      account = createAccountFromRLP(rlp)
      this.decoded.set(rlp, account)
    }
    return account
  }

  /** The code at `address` if this view's cache holds it (the same array each time), else undefined. */
  cachedCode(address: Address): Uint8Array | undefined {
    const elem = this._caches?.code?.get(address)
    return elem === undefined ? undefined : (elem.code ?? EMPTY)
  }

  /** Caches an account read past the cache ({@link cachedAccount}), as `getAccount` caches what it reads. */
  rememberAccount(address: Address, account: Account | null): void {
    const cache = this._caches?.account
    if (cache === undefined) return
    cache.put(address, account ?? undefined)
    const rlp = account === null ? undefined : cache.get(address)?.accountRLP
    if (rlp !== undefined && account !== null) this.decoded.set(rlp, account)
    this.trimDiffs()
  }

  override async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    const value = await super.getStorage(address, key)
    this.trimDiffs()
    return value
  }

  override async getCode(address: Address): Promise<Uint8Array> {
    const code = await super.getCode(address)
    this.trimDiffs()
    return code
  }

  private trimDiffs(): void {
    if (this._checkpointCount !== 0) return
    for (const cache of [this._caches?.account, this._caches?.storage, this._caches?.code]) {
      const level0 = cache?._diffCache[0] as Map<string, unknown> | undefined
      if (cache && cache._diffCache.length === 1 && level0 && level0.size > MAX_DIFF_ENTRIES) level0.clear()
    }
  }
}
