import { Bucket, bucketKey, bucketRange, type KVStore, type WriteBatch } from '@cairn/db'
import { bytesToHex, equalsBytes } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'

/**
 * A dev chain's state edits made without a block (anvil_setBalance, anvil_setCode, anvil_setNonce,
 * anvil_setStorageAt and kin), as Anvil makes them: the head does not move, its header (and state
 * root) stay as sealed, and the edit changes the state *after* the head block. That edited state is
 * what reads at the head see (`latest`, `pending`, the head's number or hash: calls, estimates,
 * the pool's nonce and balance checks), and what the next block is built on. Once that block is
 * sealed, the old head keeps its edited state for reads at its number, as on Anvil (whose edits
 * change the head's state in place); replaying the next block (tracing) starts from it too.
 *
 * Kept per block: block hash → the state root after the block and its edits (`editedState`
 * bucket; the trie nodes of that state are written with it), in memory too (a map loaded at open:
 * one entry per block that was edited while it was the head). A block without an entry has its
 * header's state root. So the edits survive a restart on the same datadir, and an edit is forgotten
 * with its block: a rewind (evm_revert, anvil_rollback past it, anvil_reset) deletes the entries of
 * the blocks it removes.
 */
export class EditedStates {
  private readonly roots = new Map<string, Uint8Array>()
  private changes = 0

  private constructor() {}

  /**
   * How many times an entry was put or deleted here: another reader of the same store (an RPC
   * read thread) {@link reload}s when this moves.
   */
  get version(): number {
    return this.changes
  }

  /** Re-reads every entry from `kv` (a read thread, after the main thread edited the head's state). */
  async reload(kv: KVStore): Promise<void> {
    const fresh = await EditedStates.load(kv)
    this.roots.clear()
    for (const [k, v] of fresh.roots) this.roots.set(k, v)
    this.changes++
  }

  /** Reads the entries stored by earlier runs. */
  static async load(kv: KVStore): Promise<EditedStates> {
    const states = new EditedStates()
    for await (const [k, v] of kv.iterate(bucketRange(Bucket.editedState))) {
      states.roots.set(bytesToHex(k.subarray(1)), v)
    }
    return states
  }

  /** The state root after `header`: the one its edits made, or the header's own. */
  rootAfter(header: BlockHeader): Uint8Array {
    if (this.roots.size === 0) return header.stateRoot
    return this.roots.get(bytesToHex(header.hash())) ?? header.stateRoot
  }

  /** Blocks with edited states (for tests and logs). */
  get size(): number {
    return this.roots.size
  }

  /**
   * Puts `root` as the state after `header` into `batch` (the header's own root, or undefined:
   * the entry is deleted). Call the returned function once the batch is written.
   */
  stage(batch: WriteBatch, header: BlockHeader, root: Uint8Array | undefined): () => void {
    const hash = header.hash()
    const key = bucketKey(Bucket.editedState, hash)
    const own = root === undefined || equalsBytes(root, header.stateRoot)
    if (own) {
      if (!this.roots.has(bytesToHex(hash))) return () => {}
      batch.del(key)
    } else batch.put(key, root)
    return () => {
      if (own) this.roots.delete(bytesToHex(hash))
      else this.roots.set(bytesToHex(hash), root)
      this.changes++
    }
  }
}
