import { Bucket, bucketKey, bucketRange, type KVStore, latin1Key, type WriteBatch } from '@cairn/db'
import type { StateManagerInterface } from '@ethereumjs/common'
import { type Address, bytesToHex, setLengthLeft } from '@ethereumjs/util'

const PRESENT = new Uint8Array([1])

/** Keys recorded lately that a later write skips (two generations of this many: hot accounts are put once per turnover). */
const RECENT = 32_768

/** Every address written, with the slots written under it (0x, lower case; slots 32 bytes). */
export type PreimageIndex = Map<string, Set<string>>

/**
 * The addresses and storage slots written to the state, in the clear (dev chains: anvil_dumpState).
 * The state trie is keyed by keccak(address) and keccak(slot), so a dump of every account needs
 * their preimages, which the trie does not keep: they are recorded here as the executor's state
 * manager writes them (transactions, state edits, system calls) and stored in the `preimage`
 * bucket, each new one in the batch of the block that commits after it ({@link drainInto}, called
 * by the importer). A dump reads them back from the store ({@link read}), so it lists the whole
 * state, across restarts too. The genesis alloc is added by the reader. Reads of the values go to
 * the state itself, so an address written and later emptied (or rewound away, or recorded by a
 * block that was never committed) is just skipped.
 *
 * Nothing grows with the state in memory: what is held is the keys not yet stored and a bounded
 * set of keys stored lately, so an account written in every block (a sender, a token) is put once
 * per turnover of that set, not once per write. (It held every address ever written, a `Set` each,
 * before: ~190 bytes an account that never left the heap, and three hex conversions and a new
 * `Set` per transfer to a new account.)
 */
export class StatePreimages {
  /** Recorded and not yet in a batch: latin1 key (address, or address ‖ slot) → nothing. */
  private pending = new Set<string>()
  private recent = new Set<string>()
  private older = new Set<string>()

  constructor(
    private readonly kv: KVStore,
    private readonly recentLimit = RECENT,
  ) {}

  record(address: Address, slot?: Uint8Array): void {
    const a = latin1Key(address.bytes)
    const key = slot === undefined ? a : a + latin1Key(slot.length === 32 ? slot : setLengthLeft(slot, 32))
    if (this.recent.has(key) || this.older.has(key)) return
    if (this.recent.size >= this.recentLimit) {
      this.older = this.recent
      this.recent = new Set()
    }
    this.recent.add(key)
    this.pending.add(key)
  }

  /** Puts the preimages recorded since the last call into `batch` (a block's commit). */
  drainInto(batch: WriteBatch): void {
    for (const key of this.pending) batch.put(bucketKey(Bucket.preimage, Buffer.from(key, 'latin1')), PRESENT)
    this.pending = new Set()
  }

  /** Every address stored or recorded, with its slots. */
  async read(): Promise<PreimageIndex> {
    const index: PreimageIndex = new Map()
    for await (const [k] of this.kv.iterate(bucketRange(Bucket.preimage))) add(index, k.subarray(1))
    for (const key of this.pending) add(index, Buffer.from(key, 'latin1'))
    return index
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

/** Adds a stored key (address, or address ‖ slot) to `index`. */
function add(index: PreimageIndex, key: Uint8Array): void {
  const address = bytesToHex(key.subarray(0, 20))
  let slots = index.get(address)
  if (!slots) {
    slots = new Set()
    index.set(address, slots)
  }
  if (key.length === 52) slots.add(bytesToHex(key.subarray(20)))
}
