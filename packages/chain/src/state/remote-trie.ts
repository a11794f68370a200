import type { MerkleStateManager } from '@ethereumjs/statemanager'
import type { Account, Address } from '@ethereumjs/util'

/**
 * A state trie whose nodes are fetched on demand before a walk (fork mode: `../fork/remote-state.ts`
 * implements it). The state floor knows only this face, so it does not depend on the fork wing.
 */
export interface RemoteTrie {
  /** Fetches the account's path once; undefined when it is at hand already. */
  ensureAccount(address: Uint8Array): Promise<void> | undefined
  /** Fetches the storage slot's path once; undefined when it is at hand already. */
  ensureSlot(address: Uint8Array, key: Uint8Array): Promise<void> | undefined
  /** Fetches the account and each slot (a proof walks the trie itself). */
  ensure(address: Uint8Array, keys: Uint8Array[]): Promise<void>
}

/** Where fetched trie nodes and code go: the chain's state node store (`StateDB.adopt`). */
export interface NodeSink {
  /** Stores trie nodes (keyed by their hash) and, when given, a contract's code (keyed by its hash). */
  adopt(nodes: Uint8Array[], code?: Uint8Array): Promise<void>
}

/** The remote trie of each state manager {@link installFork} hooked (accountProof asks it). */
const forked = new WeakMap<object, RemoteTrie>()

/**
 * Hooks a state manager of a forked chain: before an account or a storage slot is read or
 * written, the remote's proof of it is fetched once ({@link RemoteTrie}), so the walk of the
 * local trie that follows finds every node. Patched on the instance, so any class of state
 * manager (the executor's, a read view, a call's) keeps its own behaviour around the hook.
 * The synchronous trie reads of `src/fast/` (TrieReader) need no hook: a node not fetched yet is
 * "not at hand" there, and the caller falls back to a hooked state manager.
 */
export function installFork<M extends MerkleStateManager>(sm: M, remote: RemoteTrie): M {
  forked.set(sm, remote)
  const getAccount = sm.getAccount.bind(sm)
  const putAccount = sm.putAccount.bind(sm)
  const deleteAccount = sm.deleteAccount.bind(sm)
  const getStorage = sm.getStorage.bind(sm)
  const putStorage = sm.putStorage.bind(sm)
  sm.getAccount = async (address: Address): Promise<Account | undefined> => {
    const p = remote.ensureAccount(address.bytes)
    if (p) await p
    return getAccount(address)
  }
  sm.putAccount = async (address: Address, account?: Account): Promise<void> => {
    const p = remote.ensureAccount(address.bytes)
    if (p) await p
    return putAccount(address, account)
  }
  sm.deleteAccount = async (address: Address): Promise<void> => {
    const p = remote.ensureAccount(address.bytes)
    if (p) await p
    return deleteAccount(address)
  }
  sm.getStorage = async (address: Address, key: Uint8Array): Promise<Uint8Array> => {
    const p = remote.ensureSlot(address.bytes, key)
    if (p) await p
    return getStorage(address, key)
  }
  sm.putStorage = async (address: Address, key: Uint8Array, value: Uint8Array): Promise<void> => {
    const p = remote.ensureSlot(address.bytes, key)
    if (p) await p
    return putStorage(address, key, value)
  }
  const shallowCopy = sm.shallowCopy.bind(sm)
  sm.shallowCopy = (downlevelCaches?: boolean) => installFork(shallowCopy(downlevelCaches), remote)
  return sm
}

/** The remote state behind a state manager hooked by {@link installFork}; undefined when not forked. */
export function forkOfState(sm: object): RemoteTrie | undefined {
  return forked.get(sm)
}
