import type { CallFrame } from './call-tracer.ts'

export type { CallFrame }

/** Every frame, depth first, with its depth (0: the transaction) and its path of child indexes. */
export function* walkFrames(
  frame: CallFrame,
  depth = 0,
  path: number[] = [],
): Generator<{ frame: CallFrame; depth: number; path: number[] }> {
  yield { frame, depth, path }
  for (const [i, child] of (frame.calls ?? []).entries()) yield* walkFrames(child, depth + 1, [...path, i])
}
