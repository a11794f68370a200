// A gossiped block whose parent is unknown: its missing ancestors are asked of the peer that sent
// it, by hash, a few deep; further behind, range sync takes over.
import type { GossipChain } from '@cairn/chain'
import { bytesToHex, type Logger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { blockPenalty } from './penalty.ts'
import type { PeerAction } from './scoring.ts'

/** How deep a gossiped block's missing ancestors are looked up by hash before range sync takes over. */
export const MAX_LOOKUP_DEPTH = 32

export interface ParentLookupModules {
  chain: GossipChain
  logger: Logger
  /** blocks_by_hash to `peer`. */
  blocksByHash(peer: string, hashes: Uint8Array[]): Promise<Uint8Array[]>
  penalize(peer: string, action: PeerAction, reason: string): void
  /** Starts range sync (the block is too far ahead for a lookup). */
  triggerSync(): void
}

/** Looks up unknown parents (see the file's header); one lookup of a hash at a time. */
export class ParentLookup {
  readonly #inFlight = new Set<string>()

  constructor(private readonly modules: ParentLookupModules) {}

  /**
   * Asks `peer` for `block`'s missing ancestors by hash, importing each through
   * `processBlock({source: 'sync'})` (the orphan pool then adopts the block). Further behind than
   * {@link MAX_LOOKUP_DEPTH}, range sync takes over (the peer's head is at least this block's).
   */
  async lookup(peer: string, block: Block): Promise<void> {
    const { chain, logger } = this.modules
    if (block.header.number > chain.head.header.number + BigInt(MAX_LOOKUP_DEPTH)) {
      this.modules.triggerSync()
      return
    }
    let want = block.header.parentHash
    for (let depth = 0; depth < MAX_LOOKUP_DEPTH; depth++) {
      const key = bytesToHex(want)
      if (this.#inFlight.has(key)) return
      this.#inFlight.add(key)
      try {
        const [bytes] = await this.modules.blocksByHash(peer, [want])
        if (!bytes) return
        const r = await chain.processBlock(bytes, { source: 'sync', peer })
        if (r.status === 'error') {
          if (r.error.penalize) this.modules.penalize(peer, blockPenalty(r.error), `lookup_${r.error.code}`)
          return
        }
        if (r.status !== 'unknownParent') return
        want = r.parentHash
      } catch (err) {
        logger.debug({ peer, err }, 'parent lookup failed')
        return
      } finally {
        this.#inFlight.delete(key)
      }
    }
  }
}
