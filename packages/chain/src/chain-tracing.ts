import type { Executor } from './execution/executor.ts'
import type { BlockImporter } from './import/importer.ts'

type Attributes = Record<string, string | number | boolean>

/**
 * A tracer that wraps an object's async method in a span (the composition root's OpenTelemetry
 * tracer fits it); the chain knows no tracing library.
 */
export interface MethodTracer {
  readonly enabled: boolean
  wrapMethod(
    obj: object,
    key: string,
    name: string,
    // biome-ignore lint/suspicious/noExplicitAny: the wrapped method's own arguments
    attrs?: (...args: any[]) => Attributes,
    // biome-ignore lint/suspicious/noExplicitAny: the wrapped method's own result
    after?: (result: any) => Attributes,
  ): void
}

/**
 * Spans for block import (with its validation execution), execution and building. Each span is a
 * child of the active one, so a block sealed while `eth_sendRawTransaction` is served hangs under
 * that call's span. Nothing is wrapped when tracing is off.
 */
export function traceChainParts(tracer: MethodTracer, importer: BlockImporter, executor: Executor): void {
  if (!tracer.enabled) return
  tracer.wrapMethod(
    importer,
    'importBlock',
    'block.import',
    (block, executed) => ({
      'block.number': Number(block.header.number),
      'block.transactions': block.transactions.length,
      'block.executed_by_producer': executed !== undefined,
    }),
    (result) => ({ 'block.import.status': result.status }),
  )
  tracer.wrapMethod(executor, 'execute', 'block.execute', (block) => ({
    'block.number': Number(block.header.number),
    'block.transactions': block.transactions.length,
  }))
  tracer.wrapMethod(
    executor,
    'build',
    'block.build',
    (parent) => ({ 'block.number': Number(('writes' in parent ? parent.block : parent).header.number) + 1 }),
    (built) => ({ 'block.transactions': built.block.transactions.length, 'block.rejected': built.rejected.length }),
  )
}
