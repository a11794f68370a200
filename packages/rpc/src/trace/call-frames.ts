import type { RpcContext } from '../context.ts'
import { debugTraceMethods } from '../methods/debug-trace.ts'
import type { CallFrame } from './call-tracer.ts'

export type { CallFrame }

/** The call tree of a mined transaction (debug_traceTransaction with callTracer); undefined when unknown. */
export async function callTreeOf(ctx: RpcContext, hash: string): Promise<CallFrame | undefined> {
  const m = debugTraceMethods.find((d) => d.name === 'debug_traceTransaction')
  if (!m) return undefined
  return (await m.handler(m.params.parse([hash, { tracer: 'callTracer' }]), ctx, {})) as CallFrame | undefined
}

/** Every frame, depth first, with its depth (0: the transaction) and its path of child indexes. */
export function* walkFrames(
  frame: CallFrame,
  depth = 0,
  path: number[] = [],
): Generator<{ frame: CallFrame; depth: number; path: number[] }> {
  yield { frame, depth, path }
  for (const [i, child] of (frame.calls ?? []).entries()) yield* walkFrames(child, depth + 1, [...path, i])
}
