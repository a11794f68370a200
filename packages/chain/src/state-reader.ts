import type { Hex } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import type { Account } from '@ethereumjs/util'
import type { VM } from '@ethereumjs/vm'
import type { ViewState } from './fast/view-call/interpreter.ts'
import type { PreimageIndex } from './state/preimages.ts'

/**
 * The world state for readers, at a state root or after a block: what RPC reads and executes
 * calls on, what the pool checks nonces and balances against, what proofs walk. "After a block"
 * is the block's own root, or on a dev chain the root its state edits made while it was the head
 * (`DevChain`). Views are shared and read-only: to execute, take a {@link vmAt}.
 */
export interface StateReader {
  /** The state root after `header` (its own, or its edited one on a dev chain). */
  postStateRoot(header: BlockHeader): Uint8Array
  /** The shared read-only view at a stored state root (the few most recent are kept warm). */
  stateAt(stateRoot: Uint8Array): MerkleStateManager
  /** {@link stateAt} of {@link postStateRoot}. */
  stateAfter(header: BlockHeader): MerkleStateManager
  /** Whether the trie of `stateRoot` is stored. */
  hasState(stateRoot: Uint8Array): boolean
  /**
   * The account at `address` (lower-case hex) after `header` when it can be read without waiting;
   * `null`: none there; `undefined`: not at hand (read it through {@link stateAfter}).
   */
  accountNow(header: BlockHeader, address: Hex): Readonly<Account> | null | undefined
  /** A storage slot after `header` when it can be read without waiting (see {@link accountNow}). */
  storageNow(header: BlockHeader, address: Hex, key: Uint8Array): Uint8Array | undefined
  /** What a view call reads after `header`. */
  viewState(header: BlockHeader): ViewState
  /** A VM over a private, throw-away view of the state after `header`, for calls and tracing. */
  vmAt(header: BlockHeader, common?: Common): Promise<VM>
  /** The addresses and slots written so far, where the chain records them (dev chains). */
  readPreimages(): Promise<PreimageIndex | undefined>
}
