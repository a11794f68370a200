import { keccak256 } from '@cairn/crypto'
import type { Hex } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { Account } from '@ethereumjs/util'
import { createVM, type VM } from '@ethereumjs/vm'
import type { NowReads } from '../fast/now-reads.ts'
import type { ViewState } from '../fast/view-call/interpreter.ts'
import { TrieReader } from '../fast/view-call/trie-reader.ts'
import { ViewStateReader } from '../fast/view-call/view-state.ts'
import { ownCopy } from '../rules/common.ts'
import type { SharedReadView } from '../state/shared-read-view.ts'
import type { StateDB } from '../state/state-db.ts'
import type { ChainStore } from '../store/store.ts'
import { ChainView } from './chain-view.ts'
import type { SpeedKit } from './speed-kit.ts'

/**
 * The read side of the state (`StateReader`'s state views): the state after a block, views at a
 * root, reads without waiting, view-call state and throw-away VMs for calls. None of it writes:
 * the executor's own state manager is never touched here. What is shared or cached, and whether
 * reads without waiting exist at all, is the chain's {@link SpeedKit}'s choice.
 */
export class StateViews {
  /** Trie reads without promises: view calls' storage, {@link accountNow} (see {@link reader}). */
  private trieReader: TrieReader | undefined
  private readonly now: NowReads | undefined

  constructor(
    private readonly modules: {
      kit: SpeedKit
      stateDB: StateDB
      /** The Common the views are made with (the executor's current fork). */
      common: () => Common
      /**
       * The state root after a block when something other than the block changed it (a dev
       * chain's edited states, which `DevChain` plugs in here); absent: the header's own.
       */
      rootAfter?: ((header: BlockHeader) => Uint8Array) | undefined
    },
  ) {
    this.now = modules.kit.nowReads(() => this.reader())
  }

  /**
   * The state root after the block `header`: its own, or, on a dev chain, the one state edits
   * made while it was the head (`EditedStates`). What reads at the block see, what a block built on
   * it starts from, and what replaying its child starts from.
   */
  postStateRoot(header: BlockHeader): Uint8Array {
    const { rootAfter } = this.modules
    return rootAfter ? rootAfter(header) : header.stateRoot
  }

  /** The shared read-only view of the state after `header` ({@link stateAt} of {@link postStateRoot}). */
  stateAfter(header: BlockHeader): SharedReadView {
    return this.stateAt(this.postStateRoot(header))
  }

  /**
   * A read-only state view at `stateRoot` (for RPC reads, proofs and the pool). With the shims,
   * views of the few most recent roots are shared, with their caches, so repeated reads at the head
   * do not walk the trie again: callers must not write to it (use {@link vmAt} to execute).
   */
  stateAt(stateRoot: Uint8Array): SharedReadView {
    return this.modules.kit.viewAt(this.modules.common(), this.modules.stateDB, stateRoot)
  }

  /** Whether the state `stateRoot` is stored. */
  hasState(stateRoot: Uint8Array): boolean {
    return this.modules.stateDB.has(stateRoot)
  }

  /**
   * What a view call reads at the state after `header` (its edited state on a dev chain): code
   * through {@link stateAt}'s shared view, storage straight from the storage tries.
   */
  viewState(header: BlockHeader): ViewState {
    const root = this.postStateRoot(header)
    return new ViewStateReader(this.stateAt(root), this.reader(), keccak256)
  }

  /**
   * The account at `address` (lower-case hex, as RPC names it) after `header` (its edited state on
   * a dev chain) when it can be read without waiting (`../fast/now-reads.ts`). `null`: no account
   * there. `undefined`: not at hand, or a chain without the shims: read it through
   * {@link stateAfter}. The account may be shared with other readers: not to be written.
   */
  accountNow(header: BlockHeader, address: Hex): Readonly<Account> | null | undefined {
    if (this.now === undefined) return undefined
    const root = this.postStateRoot(header)
    return this.now.account(root, address, () => this.stateAt(root))
  }

  /**
   * The value of storage slot `key` (32 bytes) of `address` after `header`, as `getStorage` reads
   * it (no leading zeros; empty for none), when it can be read without waiting: the account from
   * {@link accountNow}, the slot straight from its storage trie's stored nodes. `undefined`: not at
   * hand (read it through {@link stateAfter}).
   */
  storageNow(header: BlockHeader, address: Hex, key: Uint8Array): Uint8Array | undefined {
    if (this.now === undefined) return undefined
    const account = this.accountNow(header, address)
    if (account === undefined) return undefined
    return this.now.storage(account, key)
  }

  /** The synchronous trie reader of view calls and {@link accountNow}, made on first use. */
  private reader(): TrieReader {
    const { stateDB } = this.modules
    this.trieReader ??= new TrieReader((hash) => stateDB.nodeSync(hash))
    return this.trieReader
  }

  /**
   * A VM over a private, throw-away view of the state after `header` (its edited state on a dev
   * chain: {@link postStateRoot}) (eth_call, gas estimation, tracing, replay). Its writes stay in
   * its own caches; with the shims, what it has not written it reads through the shared view of
   * {@link stateAt}, whose caches stay warm across calls. Writes must run inside a state checkpoint
   * that is reverted (or stays open): see `ReadThroughStateManager`.
   */
  async vmAt(header: BlockHeader, store: ChainStore, common: Common = header.common): Promise<VM> {
    const { kit, stateDB } = this.modules
    const root = this.postStateRoot(header)
    const stateManager = kit.callState(this.modules.common(), stateDB, root, () => this.stateAt(root))
    const vm = await createVM({ common: ownCopy(common), stateManager, blockchain: new ChainView(store, header) })
    kit.prepareVM(vm)
    return vm
  }
}
