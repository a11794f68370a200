import { equalsBytes } from '@cairn/utils'
import { MerkleStateManager, type MerkleStateManagerOpts } from '@ethereumjs/statemanager'
import { type Account, type Address, createAccountFromRLP } from '@ethereumjs/util'

/**
 * The state manager of an `eth_call` VM: private writes (its own caches, journaled, reverted after
 * each call), reads of what it has not written from `base`, the {@link SharedReadView} at the same
 * root, whose caches stay warm across calls. Without this, every read a call makes inside its
 * checkpoint is dropped with the revert and the next call walks the trie again.
 *
 * Valid while this manager's own trie is still at `base`'s root, i.e. while nothing was flushed
 * into it: callers run every write inside a checkpoint that is reverted, or keep a checkpoint open
 * for the VM's lifetime (state overrides). A commit that flushes into this manager's own trie is
 * also safe while its caches never evict (the default ordered maps): whatever was written stays
 * cached or is read from the own trie, never from `base` (eth_simulateV1 does so for the state
 * root of each simulated block). An account whose storage root or code hash differs from
 * `base`'s (storage cleared, contract created in the call) is read from this manager's own trie.
 */
export class ReadThroughStateManager extends MerkleStateManager {
  constructor(
    opts: MerkleStateManagerOpts,
    private readonly base: MerkleStateManager,
  ) {
    super(opts)
  }

  override async getAccount(address: Address): Promise<Account | undefined> {
    const elem = this._caches?.account?.get(address)
    if (elem !== undefined) return elem.accountRLP !== undefined ? createAccountFromRLP(elem.accountRLP) : undefined
    return this.base.getAccount(address)
  }

  override async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    if (this._caches?.storage?.get(address, key) !== undefined) return super.getStorage(address, key)
    const account = await this.getAccount(address)
    if (!account) return new Uint8Array()
    const shared = await this.base.getAccount(address)
    if (shared && equalsBytes(shared.storageRoot, account.storageRoot)) return this.base.getStorage(address, key)
    return super.getStorage(address, key)
  }

  override async getCode(address: Address): Promise<Uint8Array> {
    if (this._caches?.code?.get(address) !== undefined) return super.getCode(address)
    const account = await this.getAccount(address)
    if (!account?.isContract()) return new Uint8Array()
    const shared = await this.base.getAccount(address)
    if (shared && equalsBytes(shared.codeHash, account.codeHash)) return this.base.getCode(address)
    return super.getCode(address)
  }
}
