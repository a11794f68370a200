import { Bucket, bucketKey, bucketRange, type KVStore, type WriteBatch } from '@cairn/db'
import type { StateManagerInterface } from '@ethereumjs/common'
import { type Address, bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util'

const PRESENT = new Uint8Array([1])

/**
 * The addresses and storage slots written to the state, in the clear (dev chains: anvil_dumpState).
 * The state trie is keyed by keccak(address) and keccak(slot), so a dump of every account needs
 * their preimages, which the trie does not keep: they are recorded here as the executor's state
 * manager writes them (transactions, state edits, system calls). Kept in memory and in the
 * `preimage` bucket: each new one is written in the batch of the block that commits after it
 * ({@link drainInto}, called by the importer), and {@link load} reads them back at start, so a dump
 * after a restart lists the whole state. The genesis alloc is added by the reader. Reads of the
 * values go to the state itself, so an address written and later emptied (or rewound away, or
 * recorded by a block that was never committed) is just skipped.
 */
export class StatePreimages {
  /** address (0x, lower case) -> written slots (0x, 32 bytes). */
  private readonly accounts = new Map<string, Set<string>>()
  /** Recorded and not yet written to the store: [address, slot?]. */
  private pending: [string, string | undefined][] = []

  record(address: Address, slot?: Uint8Array): void {
    this.add(address.toString(), slot ? bytesToHex(setLengthLeft(slot, 32)) : undefined, true)
  }

  private add(address: string, slot: string | undefined, fresh: boolean): void {
    let slots = this.accounts.get(address)
    if (!slots) {
      slots = new Set()
      this.accounts.set(address, slots)
      if (fresh) this.pending.push([address, undefined])
    }
    if (slot && !slots.has(slot)) {
      slots.add(slot)
      if (fresh) this.pending.push([address, slot])
    }
  }

  /** Puts the preimages recorded since the last call into `batch` (a block's commit). */
  drainInto(batch: WriteBatch): void {
    for (const [address, slot] of this.pending) {
      const a = hexToBytes(address as `0x${string}`)
      const key = slot ? new Uint8Array([...a, ...hexToBytes(slot as `0x${string}`)]) : a
      batch.put(bucketKey(Bucket.preimage, key), PRESENT)
    }
    this.pending = []
  }

  /** Reads the preimages stored by earlier runs. */
  async load(kv: KVStore): Promise<void> {
    for await (const [k] of kv.iterate(bucketRange(Bucket.preimage))) {
      const key = k.subarray(1)
      const address = bytesToHex(key.subarray(0, 20))
      this.add(address, key.length === 52 ? bytesToHex(key.subarray(20)) : undefined, false)
    }
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
