import { WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError, equalsBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import type { Chain } from './chain.ts'
import { ChainErrorCode } from './errors.ts'
import { blockLogs } from './events.ts'

/** What a rewind did. */
export interface RewindResult {
  /** The new head (the block rewound to). */
  head: Block
  /** The blocks taken off the chain, newest first. */
  removed: Block[]
}

/**
 * Makes the canonical block `toHash` the head again and forgets every block above it
 * (evm_revert on a dev chain). In one atomic batch: the removed blocks leave the canonical and
 * transaction indexes, their header, body, receipts and number entries are deleted (as
 * `repairHead` does, so that an identical block sealed later is imported, not taken as known),
 * and the head pointers move. Then the importer's head moves and a `reorg` event (no added
 * blocks) and the removed logs (`removed: true`) are emitted. Runs under the importer's lock.
 * State trie nodes are content-addressed and stay (unreferenced).
 */
export function rewindChain(chain: Chain, toHash: Uint8Array): Promise<RewindResult> {
  return chain.importer.exclusive(async () => {
    const { store } = chain
    const target = await store.getBlock(toHash)
    const canonical = target ? await store.getCanonicalHash(target.header.number) : undefined
    if (!target || !canonical || !equalsBytes(canonical, toHash)) {
      throw new CairnError(ChainErrorCode.BLOCK_INVALID, `block ${bytesToHex(toHash)} is not on the canonical chain`, {
        fault: 'caller',
        hint: 'rewind only to an ancestor of the head',
      })
    }
    const oldHead = chain.importer.head
    const removed: Block[] = []
    for (let b = oldHead; b.header.number > target.header.number; b = await store.mustGetBlock(b.header.parentHash)) {
      removed.push(b)
    }
    if (removed.length === 0) return { head: target, removed }
    const receipts = await Promise.all(removed.map((b) => store.getReceipts(b.hash())))
    const batch = new WriteBatch()
    for (const b of removed) {
      const hash = b.hash()
      store.unsetCanonical(batch, b)
      for (const repo of [store.headers, store.bodies, store.receipts, store.hashToNumber] as const) {
        repo.del(hash, batch)
      }
    }
    for (const name of ['latest', 'safe', 'finalized'] as const) {
      const h = await store.getHeadHash(name)
      const n = h ? await store.hashToNumber.get(h) : undefined
      if (name === 'latest' || n === undefined || n > target.header.number) store.setHead(batch, name, toHash)
    }
    await batch.write(store.kv)
    store.clearCaches()
    chain.importer.forkChoice.rewindTo(target)

    const gone = removed.flatMap((b, i) => blockLogs(b, receipts[i] ?? [], true))
    // As the importer: a failing listener must not undo a committed rewind.
    try {
      chain.events.emit('reorg', { oldHead, newHead: target, ancestorNumber: target.header.number, removed, added: [] })
      if (gone.length > 0) chain.events.emit('logs', gone)
    } catch {}
    return { head: target, removed }
  })
}
