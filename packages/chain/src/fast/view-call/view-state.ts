import { bytesToHex } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import type { Account, Address } from '@ethereumjs/util'
import type { SharedReadView } from '../../state/shared-read-view.ts'
import type { SlotReader, ViewState } from './interpreter.ts'
import type { TrieReader } from './trie-reader.ts'

const ZERO = new Uint8Array(0)

/**
 * The state a view call reads at one state root, synchronously: code and accounts from the root's
 * shared read view's caches, storage straight from the account's storage trie
 * ({@link TrieReader}, no promise per read). What is not at hand — not cached, a node not in the
 * store — is `load`ed through the read view and kept here for the call's next run.
 */
export class ViewStateReader implements ViewState {
  /** What {@link load} read, for this call: code and accounts by address, slots by address and key. */
  private readonly codes = new Map<string, Uint8Array>()
  private readonly accounts = new Map<string, Account | null>()
  private readonly slots = new Map<string, Uint8Array>()

  constructor(
    private readonly view: SharedReadView,
    private readonly trie: TrieReader,
    private readonly keccak256: (data: Uint8Array) => Uint8Array,
  ) {}

  codeNow(address: Address): Uint8Array | undefined {
    return this.view.cachedCode(address) ?? (this.codes.size > 0 ? this.codes.get(address.toString()) : undefined)
  }

  storageNow(address: Address): SlotReader | undefined {
    let account = this.view.cachedAccount(address)
    if (account === undefined && this.accounts.size > 0) account = this.accounts.get(address.toString())
    if (account === undefined) return undefined
    if (account === null) return () => ZERO
    const root = account.storageRoot
    return (key) => {
      const leaf = this.trie.get(root, this.keccak256(key))
      if (leaf === undefined) return this.slots.get(slotId(address, key))
      return leaf === null ? ZERO : (RLP.decode(leaf) as Uint8Array)
    }
  }

  async load(address: Address, key?: Uint8Array): Promise<void> {
    if (key !== undefined) {
      this.slots.set(slotId(address, key), await this.view.getStorage(address, key))
      return
    }
    const id = address.toString()
    this.codes.set(id, await this.view.getCode(address))
    this.accounts.set(id, (await this.view.getAccount(address)) ?? null)
  }
}

function slotId(address: Address, key: Uint8Array): string {
  return `${address.toString()}${bytesToHex(key)}`
}
