import type { BlobSidecar } from '@cairn/txpool'
import { bytesToHex } from '@cairn/utils'
import type { TypedTransaction } from '@ethereumjs/tx'
import { LRUCache } from 'lru-cache'
import type { RpcContext } from './context.ts'

/** Most bytes of blobs kept per node (the newest first): 512 blobs of 128 KiB. */
const MAX_BYTES = 64 * 1024 * 1024

interface Blobs {
  /** Transaction hash → its blobs, in order. */
  byTx: LRUCache<string, Uint8Array[]>
  /** Versioned hash → the transaction that carried it and the blob's index in it. */
  txOf: Map<string, { txHash: string; index: number }>
}

const stores = new WeakMap<RpcContext, Blobs>()

function storeOf(ctx: RpcContext): Blobs {
  let s = stores.get(ctx)
  if (!s) {
    const txOf = new Map<string, { txHash: string; index: number }>()
    const byTx = new LRUCache<string, Uint8Array[]>({
      maxSize: MAX_BYTES,
      sizeCalculation: (blobs) =>
        Math.max(
          1,
          blobs.reduce((n, b) => n + b.length, 0),
        ),
      dispose: (_blobs, txHash) => {
        for (const [v, t] of txOf) if (t.txHash === txHash) txOf.delete(v)
      },
    })
    s = { byTx, txOf }
    stores.set(ctx, s)
  }
  return s
}

/**
 * Keeps the blobs of a blob transaction sent to this node (eth_sendRawTransaction in dev mode),
 * for anvil_getBlobByHash and anvil_getBlobsByTransactionHash: the pool drops a sidecar once its
 * transaction is in a block and blocks carry only the versioned hashes; Anvil keeps them. At most
 * {@link MAX_BYTES}, the oldest dropped first.
 */
export function keepBlobs(ctx: RpcContext, tx: TypedTransaction, sidecar: BlobSidecar): void {
  const hashes = (tx as unknown as { blobVersionedHashes?: (string | Uint8Array)[] }).blobVersionedHashes ?? []
  const txHash = bytesToHex(tx.hash())
  const s = storeOf(ctx)
  s.byTx.set(txHash, sidecar.blobs)
  for (const [index, h] of hashes.entries()) {
    s.txOf.set((typeof h === 'string' ? h : bytesToHex(h)).toLowerCase(), { txHash, index })
  }
}

/** The blob with this versioned hash, if this node kept it. */
export function blobByVersionedHash(ctx: RpcContext, versionedHash: string): Uint8Array | undefined {
  const s = stores.get(ctx)
  const at = s?.txOf.get(versionedHash.toLowerCase())
  return at && s?.byTx.get(at.txHash)?.[at.index]
}

/** The blobs of the transaction with this hash, if this node kept them. */
export function blobsOfTx(ctx: RpcContext, txHash: string): Uint8Array[] | undefined {
  return stores.get(ctx)?.byTx.get(txHash.toLowerCase())
}
