import { WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError, equalsBytes } from '@cairn/utils'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { ChainErrorCode } from '../errors.ts'
import { blockLogs, type ChainEvents } from '../events.ts'
import type { ExecutedBlock } from '../execution/executor.ts'
import type { DevParts } from './dev-parts.ts'

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
export function rewindChain(chain: DevParts, toHash: Uint8Array): Promise<RewindResult> {
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
    const forgotten: (() => void)[] = []
    for (const b of removed) {
      const hash = b.hash()
      store.unsetCanonical(batch, b)
      for (const repo of [store.headers, store.bodies, store.receipts, store.hashToNumber] as const) {
        repo.del(hash, batch)
      }
      // The state edits made on a removed block go with it.
      forgotten.push(chain.editedStates.stage(batch, b.header, undefined))
    }
    for (const name of ['latest', 'safe', 'finalized'] as const) {
      const h = await store.getHeadHash(name)
      const n = h ? await store.hashToNumber.get(h) : undefined
      if (name === 'latest' || n === undefined || n > target.header.number) store.setHead(batch, name, toHash)
    }
    await batch.write(store.kv)
    for (const done of forgotten) done()
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

/** What a branch replacement did. */
export interface ReplaceResult {
  head: Block
  /** The blocks that left the canonical chain (kept, as a side branch), newest first. */
  removed: Block[]
  /** The blocks that joined it, oldest first. */
  added: Block[]
}

/**
 * Replaces the canonical blocks above the canonical block `ancestorHash` with `branch` (blocks
 * executed one on another from it, not yet committed: anvil_reorg on a dev chain). In one atomic
 * batch: the branch's blocks, receipts and state are written, the old blocks leave the canonical
 * and transaction indexes but stay stored (a side branch: readable by hash, as after a reorg from
 * the network), the new ones enter them, and the head moves to the branch's tip. Safe and
 * finalized pointers above the ancestor move to the tip when they were at the old head (instant
 * finality), else to the ancestor. Then the importer's head moves and the events are those of a
 * reorg: `reorg` (removed and added), the removed logs (`removed: true`), then `newHead` and the
 * logs of each added block. A block the branch shares with the old one (the same block sealed
 * again) stays canonical. Runs under the importer's lock, skipping the importer's finality check:
 * only a dev engine, the one producer, does this.
 */
export function replaceBranch(
  chain: DevParts,
  ancestorHash: Uint8Array,
  branch: ExecutedBlock[],
): Promise<ReplaceResult> {
  return chain.importer.exclusive(async () => {
    const { store, stateDB } = chain
    const ancestor = await store.getBlock(ancestorHash)
    const canonical = ancestor ? await store.getCanonicalHash(ancestor.header.number) : undefined
    if (!ancestor || !canonical || !equalsBytes(canonical, ancestorHash)) {
      throw new CairnError(
        ChainErrorCode.BLOCK_INVALID,
        `block ${bytesToHex(ancestorHash)} is not on the canonical chain`,
        {
          fault: 'caller',
          hint: 'branch off an ancestor of the head',
        },
      )
    }
    let parent = ancestorHash
    for (const { block } of branch) {
      if (!equalsBytes(block.header.parentHash, parent)) {
        throw new CairnError(ChainErrorCode.BLOCK_INVALID, `block ${block.header.number} does not extend the branch`, {
          fault: 'caller',
        })
      }
      parent = block.hash()
    }
    const oldHead = chain.importer.head
    const old: Block[] = []
    for (let b = oldHead; b.header.number > ancestor.header.number; b = await store.mustGetBlock(b.header.parentHash)) {
      old.unshift(b)
    }
    // The branch's first blocks may be the old ones again (same contents, same hash).
    let shared = 0
    while (
      shared < branch.length &&
      shared < old.length &&
      equalsBytes((branch[shared] as ExecutedBlock).block.hash(), (old[shared] as Block).hash())
    ) {
      shared++
    }
    const fresh = branch.slice(shared)
    const added = fresh.map((e) => e.block)
    const removed = old.slice(shared).reverse()
    const head = added.at(-1) ?? old.at(shared - 1) ?? ancestor
    // The branch's blocks were built on one another's sealed states: dev state edits made on a
    // block of the old branch that comes back (the same block sealed again), or on a side-branch
    // block, are not theirs (as Anvil, whose reorg rebuilds from the ancestor's state).
    const batch = new WriteBatch()
    const forgotten = branch.map((e) => chain.editedStates.stage(batch, e.block.header, undefined))
    if (added.length === 0 && removed.length === 0) {
      if (batch.size > 0) await batch.write(store.kv)
      for (const done of forgotten) done()
      return { head, removed, added }
    }
    for (const e of fresh) {
      store.putBlock(batch, e.block, e.receipts)
      stateDB.commitLayer(e.writes, batch)
    }
    chain.executor.preimages?.drainInto(batch)
    for (const b of removed) store.unsetCanonical(batch, b)
    for (const b of added) store.setCanonical(batch, b)
    // The new branch may be shorter than the old one.
    for (let n = head.header.number + 1n; n <= oldHead.header.number; n++) store.canonical.del(n, batch)
    store.setHead(batch, 'latest', head.hash())
    const above = ancestor.header.number + BigInt(shared)
    const move = (h: BlockHeader): BlockHeader =>
      h.number <= above ? h : equalsBytes(h.hash(), oldHead.hash()) ? head.header : ancestor.header
    const fc = chain.importer.forkChoice
    const checkpoints = { safe: move(fc.safe()), finalized: move(fc.finalized()) }
    store.setHead(batch, 'safe', checkpoints.safe.hash())
    store.setHead(batch, 'finalized', checkpoints.finalized.hash())
    await batch.write(store.kv)
    for (const done of forgotten) done()
    for (const e of fresh) e.writes.markCommitted()
    store.clearCaches()
    for (const e of fresh) store.remember(e.block, e.receipts)
    fc.devReset({ head, ...checkpoints })

    const removedReceipts = await Promise.all(removed.map((b) => store.getReceipts(b.hash())))
    const gone = removed.flatMap((b, i) => blockLogs(b, removedReceipts[i] ?? [], true))
    const emit = <K extends keyof ChainEvents>(name: K, payload: ChainEvents[K]) => {
      // As the importer: a failing listener must not undo a committed change.
      try {
        chain.events.emit(name, payload)
      } catch {}
    }
    const ancestorNumber = ancestor.header.number + BigInt(shared)
    emit('reorg', { oldHead, newHead: head, ancestorNumber, removed, added })
    if (gone.length > 0) emit('logs', gone)
    for (const e of fresh) {
      emit('newHead', { block: e.block, receipts: e.receipts })
      const logs = blockLogs(e.block, e.receipts, false)
      if (logs.length > 0) emit('logs', logs)
    }
    return { head, removed, added }
  })
}
