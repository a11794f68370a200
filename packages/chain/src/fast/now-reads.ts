import { keccak256 } from '@cairn/crypto'
import { type Hex, hexToBytes } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { type Account, Address, createAccountFromRLP } from '@ethereumjs/util'
import type { SharedReadView } from '../state/shared-read-view.ts'
import type { TrieReader } from './view-call/trie-reader.ts'

/** Most accounts {@link NowReads.account} keeps by address for one root (then it starts over). */
const MAX_NOW_ACCOUNTS = 10_000

/**
 * Reads without waiting (`StateReader.accountNow` and `storageNow`): an account from the accounts
 * read at this root before, the shared view's cache, else straight from the stored trie nodes
 * ({@link TrieReader}: no promise per node); a slot straight from its storage trie's stored
 * nodes. `undefined`: not at hand (a node of the path not in the store). A speed shim: a chain in
 * reference mode has none, and its callers read through a state manager instead.
 */
export class NowReads {
  /** The state root {@link account}'s accounts were read at, and those accounts by address. */
  private nowRoot: Uint8Array | undefined
  private readonly nowAccounts = new Map<Hex, Readonly<Account> | null>()

  constructor(private readonly reader: () => TrieReader) {}

  /**
   * The account at `address` (lower-case hex) in the state `root`, whose shared view `viewAt` gives.
   * `null`: no account there. The account may be shared with other readers: not to be written.
   */
  account(root: Uint8Array, address: Hex, viewAt: () => SharedReadView): Readonly<Account> | null | undefined {
    // Roots are never written in place: the same array is the same state (a new head: a new array).
    if (root !== this.nowRoot) {
      this.nowRoot = root
      this.nowAccounts.clear()
    }
    const known = this.nowAccounts.get(address)
    if (known !== undefined) return known
    const addr = new Address(hexToBytes(address))
    const view = viewAt()
    let account = view.cachedAccount(addr)
    if (account === undefined) {
      const leaf = this.reader().get(root, keccak256(addr.bytes))
      if (leaf === undefined) return undefined
      const read = leaf === null ? null : createAccountFromRLP(leaf)
      view.rememberAccount(addr, read)
      account = read
    }
    if (this.nowAccounts.size >= MAX_NOW_ACCOUNTS) this.nowAccounts.clear()
    this.nowAccounts.set(address, account)
    return account
  }

  /**
   * The value of storage slot `key` (32 bytes) of `account` (as {@link account} read it), as
   * `getStorage` reads it (no leading zeros; empty for none).
   */
  storage(account: Readonly<Account> | null, key: Uint8Array): Uint8Array | undefined {
    if (account === null) return new Uint8Array()
    const leaf = this.reader().get(account.storageRoot, keccak256(key))
    if (leaf === undefined) return undefined
    return leaf === null ? new Uint8Array() : (RLP.decode(leaf) as Uint8Array)
  }
}
