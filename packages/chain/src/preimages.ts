import type { StateManagerInterface } from '@ethereumjs/common'
import { type Address, bytesToHex, setLengthLeft } from '@ethereumjs/util'

/**
 * The addresses and storage slots written to the state, in the clear (dev chains: anvil_dumpState).
 * The state trie is keyed by keccak(address) and keccak(slot), so a dump of every account needs
 * their preimages, which the trie does not keep: they are recorded here as the executor's state
 * manager writes them (transactions, state edits, system calls). In memory, since the node
 * started; the genesis alloc is added by the reader. Reads of the values go to the state itself,
 * so an address written and later emptied (or rewound away) is just skipped.
 */
export class StatePreimages {
  /** address (0x, lower case) -> written slots (0x, 32 bytes). */
  private readonly accounts = new Map<string, Set<string>>()

  record(address: Address, slot?: Uint8Array): void {
    const key = address.toString()
    let slots = this.accounts.get(key)
    if (!slots) {
      slots = new Set()
      this.accounts.set(key, slots)
    }
    if (slot) slots.add(bytesToHex(setLengthLeft(slot, 32)))
  }

  /** Every address recorded, with its recorded slots. */
  entries(): IterableIterator<[string, ReadonlySet<string>]> {
    return this.accounts.entries()
  }

  /** Wraps `sm`'s writes so that each records its address (and slot). */
  install(sm: StateManagerInterface): void {
    const putAccount = sm.putAccount.bind(sm)
    const putStorage = sm.putStorage.bind(sm)
    const putCode = sm.putCode.bind(sm)
    sm.putAccount = (address, account) => {
      this.record(address)
      return putAccount(address, account)
    }
    sm.putStorage = (address, key, value) => {
      this.record(address, key)
      return putStorage(address, key, value)
    }
    sm.putCode = (address, code) => {
      this.record(address)
      return putCode(address, code)
    }
  }
}
