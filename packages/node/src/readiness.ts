/**
 * The node's readiness checks beyond the database (`/ready`, docs/operations/observability.md):
 *
 * - `head`: the head is fresh for the engine in use. Instant sealing (dev): not stuck, i.e. no
 *   executable transaction has waited longer than `stuckAfterMs` without a new head. Interval
 *   sealing: a new head within three block times (at least `stuckAfterMs`).
 * - `rpc`: the JSON-RPC dispatcher accepts work: an in-process `eth_blockNumber` answers with the
 *   head's number (the health timeout bounds it).
 */
import type { Chain } from '@cairn/chain'
import type { RpcDispatcher } from '@cairn/rpc'
import type { TxPool } from '@cairn/txpool'
import { CairnError } from '@cairn/utils'
import { NodeErrorCode } from './errors.ts'

export interface HeadFreshnessOptions {
  /** Seconds between blocks (0: instant sealing). */
  blockTime: number
  /** How long work may wait before the head counts as stuck (ms). */
  stuckAfterMs: number
}

/** A readiness check of the head's freshness; it follows the chain's `newHead` events. */
export function headFreshness(
  opts: HeadFreshnessOptions,
  modules: { chain: Chain; pool: TxPool; now?: () => number },
): () => Promise<void> {
  const now = modules.now ?? Date.now
  let lastHeadAt = now()
  modules.chain.events.on('newHead', () => {
    lastHeadAt = now()
  })
  return async () => {
    const age = now() - lastHeadAt
    const head = modules.chain.head.header
    if (opts.blockTime > 0) {
      const limit = Math.max(3 * opts.blockTime * 1000, opts.stuckAfterMs)
      if (age > limit) {
        throw new CairnError(
          NodeErrorCode.HEAD_STALE,
          `no new block for ${Math.round(age / 1000)} s (block time ${opts.blockTime} s); head ${head.number}`,
          { fault: 'transient' },
        )
      }
      return
    }
    if (age > opts.stuckAfterMs && modules.pool.hasExecutable(head.calcNextBaseFee())) {
      throw new CairnError(
        NodeErrorCode.HEAD_STUCK,
        `transactions are pending but no block was sealed for ${Math.round(age / 1000)} s; head ${head.number}`,
        { fault: 'transient' },
      )
    }
  }
}

/** A readiness check that the JSON-RPC dispatcher answers a read with the head's number. */
export function rpcAccepts(modules: { dispatcher: RpcDispatcher }): () => Promise<void> {
  return async () => {
    const res = (await modules.dispatcher.handle({ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] })) as
      | { result?: unknown; error?: { message: string } }
      | undefined
    if (res === undefined || typeof res.result !== 'string') {
      throw new CairnError(
        NodeErrorCode.RPC_UNAVAILABLE,
        `eth_blockNumber failed: ${res?.error?.message ?? 'no answer'}`,
        {
          fault: 'transient',
        },
      )
    }
  }
}

/** Blocks behind the best peer beyond which a syncing node is not ready. */
export const SYNC_READY_DISTANCE = 64n

/**
 * A readiness check of the network: at least `minPeers` peers, and not syncing more than
 * {@link SYNC_READY_DISTANCE} blocks behind the best peer.
 */
export function networkReady(
  opts: { minPeers: number },
  modules: {
    network: {
      peerCount(): number
      syncing(): { currentBlock: bigint; highestBlock: bigint } | false
    }
  },
): () => Promise<void> {
  return async () => {
    const peers = modules.network.peerCount()
    if (peers < opts.minPeers) {
      throw new CairnError(NodeErrorCode.FEW_PEERS, `${peers} peers, fewer than --p2p.min-peers ${opts.minPeers}`, {
        fault: 'transient',
      })
    }
    const s = modules.network.syncing()
    if (s && s.highestBlock - s.currentBlock > SYNC_READY_DISTANCE) {
      throw new CairnError(NodeErrorCode.SYNCING, `syncing: at block ${s.currentBlock} of ${s.highestBlock}`, {
        fault: 'transient',
      })
    }
  }
}
