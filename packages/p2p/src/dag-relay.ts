// Kaspa-style relay of a block DAG's blocks: a gossiped block whose *other* parents (a GhostDAG
// block's extra parents, or a merged block not executed here yet) are unknown is refused by the
// engine with `meta.missingParents` (fault transient: not the sender's fault). Those blocks are
// asked of the peer that sent it, by hash (blocks_by_hash, as the parent lookup does for
// `parentHash`), imported — each in turn looking up what it misses, a bounded depth — and the
// block is then imported again.
import type { GossipChain } from '@cairn/chain'
import { bytesToHex, hexToBytes, type Logger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'

/** How deep missing DAG parents are followed before range sync and later gossip must fill the gap. */
export const MAX_DAG_LOOKUP_DEPTH = 16
/** A block whose fetched parents are still being imported is tried again this many times, this far apart. */
const RETRIES = 4
const RETRY_MS = 250

/** The hashes an engine said a block misses (`CairnError.meta.missingParents`, on the error or its cause). */
export function missingParentsOf(err: unknown): string[] | undefined {
  for (let e = err as { meta?: { missingParents?: unknown }; cause?: unknown } | undefined, i = 0; e && i < 3; i++) {
    const m = e.meta?.missingParents
    if (Array.isArray(m) && m.every((h) => typeof h === 'string' && /^0x[0-9a-fA-F]{64}$/.test(h))) return m as string[]
    e = e.cause as typeof e
  }
  return undefined
}

export interface DagRelayModules {
  chain: GossipChain
  logger: Logger
  blocksByHash(peer: string, hashes: Uint8Array[]): Promise<Uint8Array[]>
}

export class DagRelay {
  readonly #inFlight = new Set<string>()

  constructor(private readonly modules: DagRelayModules) {}

  /** Fetches `missing` from `peer`, imports them, then imports `block` again. */
  async fetch(peer: string, block: Block | Uint8Array, missing: readonly string[], depth = 0): Promise<void> {
    if (depth >= MAX_DAG_LOOKUP_DEPTH) return
    const want = missing.filter((h) => !this.#inFlight.has(h.toLowerCase()))
    if (want.length === 0) return
    for (const h of want) this.#inFlight.add(h.toLowerCase())
    try {
      const bodies = await this.modules.blocksByHash(
        peer,
        want.map((h) => hexToBytes(h as `0x${string}`)),
      )
      for (const bytes of bodies) await this.process(peer, bytes, depth + 1)
    } catch (err) {
      this.modules.logger.debug({ peer, err }, 'DAG parent lookup failed')
      return
    } finally {
      for (const h of want) this.#inFlight.delete(h.toLowerCase())
    }
    // A fetched block may still be in the import queue (gossip brought it too): a few tries.
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const r = await this.modules.chain.processBlock(block, { source: 'sync', peer })
      if (r.status !== 'error' || !missingParentsOf(r.error)) {
        if (r.status === 'unknownParent') await this.fetch(peer, block, [bytesToHex(r.parentHash)], depth + 1)
        return
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS))
    }
  }

  private async process(peer: string, bytes: Block | Uint8Array, depth: number): Promise<void> {
    const r = await this.modules.chain.processBlock(bytes, { source: 'sync', peer })
    if (r.status === 'unknownParent') await this.fetch(peer, bytes, [bytesToHex(r.parentHash)], depth)
    else if (r.status === 'error') {
      const missing = missingParentsOf(r.error)
      if (missing) await this.fetch(peer, bytes, missing, depth)
    }
  }
}
