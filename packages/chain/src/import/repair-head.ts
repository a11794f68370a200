import { Bucket, bucketKey, WriteBatch } from '@cairn/db'
import { bytesToHex, CairnError, equalsBytes, type Logger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { ChainErrorCode } from '../errors.ts'
import type { StateDB } from '../state/state-db.ts'
import type { ChainStore } from '../store/store.ts'

/**
 * Walks back from the stored head to the newest block whose header, body, receipts, canonical
 * entry and state root are all present, and makes it the head. A block is written in one atomic
 * batch, so this only finds work after storage-level damage or an older writer; it runs on every
 * start so that nothing reads a half-written head.
 */
export async function repairHead(
  store: ChainStore,
  stateDB: StateDB,
  genesis: Block,
  logger: Logger,
): Promise<{ head: Block; rolledBack: number }> {
  const headHash = (await store.getHeadHash('latest')) ?? genesis.hash()
  const dropped: { number: bigint; hash: Uint8Array; block: Block | undefined }[] = []
  let hash = headHash
  for (;;) {
    const [header, block, receipts, number] = await Promise.all([
      store.getHeader(hash),
      // An older writer's block without its body is repaired here, not reported as damage.
      store.bodies.getRaw(hash).then((body) => (body ? store.getBlock(hash).catch(() => undefined) : undefined)),
      store.receipts.getRaw(hash),
      store.hashToNumber.get(hash),
    ])
    const canonical = number === undefined ? undefined : await store.getCanonicalHash(number)
    const complete =
      header !== undefined &&
      block !== undefined &&
      receipts !== undefined &&
      number !== undefined &&
      canonical !== undefined &&
      equalsBytes(canonical, hash) &&
      // A fork's first block: its state is the remote's, fetched as it is read (src/fork/).
      (stateDB.has(header.stateRoot) || (stateDB.remote !== undefined && equalsBytes(hash, genesis.hash())))
    if (complete) break
    if (!header || header.number <= genesis.header.number) {
      throw new CairnError(ChainErrorCode.CORRUPT, `cannot find a complete block below head ${bytesToHex(headHash)}`, {
        hint: 'the datadir is damaged beyond repair; restore it from a backup',
      })
    }
    dropped.push({ number: header.number, hash, block })
    hash = header.parentHash
  }
  const head = await store.mustGetBlock(hash)
  if (dropped.length > 0) {
    const batch = new WriteBatch()
    for (const d of dropped) {
      const canonical = await store.getCanonicalHash(d.number)
      if (canonical && equalsBytes(canonical, d.hash)) store.canonical.del(d.number, batch)
      if (d.block) for (const tx of d.block.transactions) store.txIndex.del(tx.hash(), batch)
      // Forget the incomplete block entirely, so that it can be imported again.
      for (const repo of [store.headers, store.bodies, store.receipts, store.hashToNumber] as const) {
        repo.del(d.hash, batch)
      }
      // And its dev state edits (EditedStates, loaded after this), should the same block come back.
      batch.del(bucketKey(Bucket.editedState, d.hash))
    }
    store.setHead(batch, 'latest', hash)
    for (const name of ['safe', 'finalized'] as const) {
      const h = await store.getHeadHash(name)
      const n = h ? await store.hashToNumber.get(h) : undefined
      if (n === undefined || n > head.header.number) store.setHead(batch, name, hash)
    }
    await batch.write(store.kv)
    store.clearCaches()
    logger.warn(
      {
        rolledBack: dropped.length,
        from: Number((dropped[0] as { number: bigint }).number),
        to: Number(head.header.number),
      },
      `head was incomplete (an interrupted write); rolled back ${dropped.length} block(s) to the last complete block ${head.header.number}`,
    )
  }
  return { head, rolledBack: dropped.length }
}
