import type { Chain } from '@cairn/chain'
import type { KVStore } from '@cairn/db'
import type { Tracer } from '@cairn/service-kit'
import type { TxPool } from '@cairn/txpool'
import { bytesToHex } from '@cairn/utils'

/**
 * Spans for components that do not know about tracing, added from the composition root: every DB
 * batch (the import's commit among them), and the chain's own spans (block building, block import
 * with its validation execution: `Chain.trace`). Each span is a child of the active one, so a
 * block sealed while `eth_sendRawTransaction` is served hangs under that call's span. Nothing is
 * wrapped when tracing is off.
 */
export function traceComponents(tracer: Tracer, { kv, chain }: { kv: KVStore; chain: Chain }): void {
  if (!tracer.enabled) return
  tracer.wrapMethod(kv, 'batch', 'db.batch', (ops) => ({
    'db.system.name': kv.kind,
    'db.operation.batch.size': ops.length,
  }))
  chain.trace(tracer)
}

/**
 * A span per transaction the pool is asked to admit (`txpool.add`): under `eth_sendRawTransaction`
 * when a client sent it, so a trace shows the pool between the call and the block. Nothing is
 * wrapped when tracing is off.
 */
export function tracePool(tracer: Tracer, pool: TxPool): void {
  if (!tracer.enabled) return
  tracer.wrapMethod(
    pool,
    'add',
    'txpool.add',
    (tx) => ({ 'tx.type': tx.type, 'tx.nonce': Number(tx.nonce) }),
    (hash) => ({ 'tx.hash': bytesToHex(hash) }),
  )
}
