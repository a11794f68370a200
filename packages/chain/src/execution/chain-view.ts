import { equalsBytes } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import type { EVMMockBlockchainInterface } from '@ethereumjs/evm'
import type { ChainStore } from '../store/store.ts'

type HashOnly = { hash(): Uint8Array }

/**
 * What the EVM sees of the chain: the ancestors of the block being executed, so BLOCKHASH returns
 * real hashes (the VM's default mock returns zeros). Ancestors of a canonical parent come from the
 * number index; on a side branch the parents are walked by hash.
 */
export class ChainView implements EVMMockBlockchainInterface {
  constructor(
    private readonly store: ChainStore,
    public parent: BlockHeader,
    /** Headers of uncommitted ancestors (an execution built on executed, uncommitted blocks). */
    public pending: readonly BlockHeader[] = [],
  ) {}

  private async header(hash: Uint8Array): Promise<BlockHeader | undefined> {
    for (const h of this.pending) if (equalsBytes(h.hash(), hash)) return h
    return this.store.getHeader(hash)
  }

  async getBlock(blockId: number): Promise<HashOnly> {
    const n = BigInt(blockId)
    const parentHash = this.parent.hash()
    if (n === this.parent.number) return { hash: () => parentHash }
    // A fork: blocks before its first are the remote's.
    const fork = this.store.forkBelow
    if (fork !== undefined && n < fork.number) {
      const remote = await fork.hashAt(n)
      return { hash: () => remote }
    }
    const canonicalParent = await this.store.getCanonicalHash(this.parent.number)
    if (canonicalParent && equalsBytes(canonicalParent, parentHash)) {
      const h = await this.store.getCanonicalHash(n)
      if (h) return { hash: () => h }
    }
    let cur: BlockHeader | undefined = this.parent
    while (cur && cur.number > n) cur = await this.header(cur.parentHash)
    const found = cur
    const hash = found && found.number === n ? found.hash() : new Uint8Array(32)
    return { hash: () => hash }
  }

  async putBlock(): Promise<void> {}

  shallowCopy(): ChainView {
    return new ChainView(this.store, this.parent, this.pending)
  }
}
