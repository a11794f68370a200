import type { Chain } from '@cairn/chain'
import type { KVStore } from '@cairn/db'
import type { Tracer } from '@cairn/service-kit'

/**
 * Spans for components that do not know about tracing, added from the composition root: block
 * building (the dev engine's execution), block import with its validation execution, and every
 * DB batch (the import's commit among them). Each span is a child of the active one, so a block
 * sealed while `eth_sendRawTransaction` is served hangs under that call's span. Nothing is
 * wrapped when tracing is off.
 */
export function traceComponents(tracer: Tracer, { kv, chain }: { kv: KVStore; chain: Chain }): void {
  if (!tracer.enabled) return
  tracer.wrapMethod(kv, 'batch', 'db.batch', (ops) => ({
    'db.system.name': kv.kind,
    'db.operation.batch.size': ops.length,
  }))
  tracer.wrapMethod(
    chain.importer,
    'importBlock',
    'block.import',
    (block, executed) => ({
      'block.number': Number(block.header.number),
      'block.transactions': block.transactions.length,
      'block.executed_by_producer': executed !== undefined,
    }),
    (result) => ({ 'block.import.status': result.status }),
  )
  tracer.wrapMethod(chain.executor, 'execute', 'block.execute', (block) => ({
    'block.number': Number(block.header.number),
    'block.transactions': block.transactions.length,
  }))
  tracer.wrapMethod(
    chain.executor,
    'build',
    'block.build',
    (parent) => ({ 'block.number': Number(('writes' in parent ? parent.block : parent).header.number) + 1 }),
    (built) => ({ 'block.transactions': built.block.transactions.length, 'block.rejected': built.rejected.length }),
  )
}
