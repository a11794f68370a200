// What the P2P node answers peers who ask for data: blocks by range, blocks by hash (both under a
// soft byte limit per answer) and pooled transactions by hash. The status protocol is the
// network's own (it decides whether a peer stays): network.ts.
import { encodedTx, type GossipChain } from '@cairn/chain'
import type { TxPool } from '@cairn/txpool'
import { CairnError } from '@cairn/utils'
import { decodeHashes, decodeRange } from './codec.ts'
import { P2pErrorCode } from './errors.ts'
import { MAX_REQUEST_BLOCKS } from './network-options.ts'
import { Protocol, type ReqResp } from './reqresp.ts'
import { MAX_TX_BYTES, MAX_TX_REQUEST } from './tx-fetch.ts'

export interface ServedProtocolsOptions {
  /** Largest encoded block (a chunk of a block answer). */
  maxBlockBytes: number
  /** Soft limit on a block answer's bytes: no block is added once the answer reaches it. */
  maxResponseBytes: number
}

/** Registers the handlers of blocks_by_range, blocks_by_hash and pooled_transactions_by_hash. */
export async function registerServedProtocols(
  reqresp: ReqResp,
  opts: ServedProtocolsOptions,
  modules: { chain: GossipChain; pool: Pick<TxPool, 'get'> },
): Promise<void> {
  const { chain } = modules
  const { maxBlockBytes: maxBlock, maxResponseBytes } = opts
  await reqresp.register(Protocol.BLOCKS_BY_RANGE, {
    cost: (request) => Math.max(1, decodeRange(request).count),
    maxChunks: MAX_REQUEST_BLOCKS,
    maxChunkBytes: maxBlock,
    maxResponseBytes,
    handle: async (_peer, request) => {
      const { start, count } = decodeRange(request)
      if (count > MAX_REQUEST_BLOCKS) {
        throw new CairnError(P2pErrorCode.TOO_LARGE, `more than ${MAX_REQUEST_BLOCKS} blocks`, { fault: 'peer' })
      }
      const out: Uint8Array[] = []
      let bytes = 0
      const head = chain.head.header.number
      for (let n = start; n < start + BigInt(count) && n <= head && bytes < maxResponseBytes; n++) {
        const block = await chain.getBlockBytesByNumber(n)
        if (!block) break
        out.push(block)
        bytes += block.length
      }
      return out
    },
  })
  await reqresp.register(Protocol.BLOCKS_BY_HASH, {
    cost: (request) => Math.max(1, decodeHashes(request, MAX_REQUEST_BLOCKS).length),
    maxChunks: MAX_REQUEST_BLOCKS,
    maxChunkBytes: maxBlock,
    maxResponseBytes,
    handle: async (_peer, request) => {
      const out: Uint8Array[] = []
      let bytes = 0
      for (const hash of decodeHashes(request, MAX_REQUEST_BLOCKS)) {
        if (bytes >= maxResponseBytes) break
        const block = await chain.getBlockBytes(hash)
        if (!block) continue
        out.push(block)
        bytes += block.length
      }
      return out
    },
  })
  await reqresp.register(Protocol.POOLED_TRANSACTIONS_BY_HASH, {
    cost: (request) => Math.max(1, decodeHashes(request, MAX_TX_REQUEST).length),
    maxChunks: MAX_TX_REQUEST,
    maxChunkBytes: MAX_TX_BYTES,
    handle: async (_peer, request) => {
      const out: Uint8Array[] = []
      for (const hash of decodeHashes(request, MAX_TX_REQUEST)) {
        const tx = modules.pool.get(hash)
        if (tx && tx.type !== 3) out.push(encodedTx(tx))
      }
      return out
    },
  })
}
