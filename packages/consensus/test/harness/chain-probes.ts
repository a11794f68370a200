import type { Chain, HeaderContext } from '@cairn/chain'
import type { Block } from '@ethereumjs/block'

/** What a chain's import hands an engine's `validateHeader`: its stored blocks and its state. */
export function headerContext(chain: Chain): HeaderContext {
  return { chain, stateAt: (root) => chain.stateAt(root) }
}

/**
 * The blocks `chain` executes from now on, in order (a block imported, or verified for an engine),
 * seen through the chain's tracing face: a tracer that records each `block.execute` call.
 */
export function recordExecutions(chain: Chain): Block[] {
  const executed: Block[] = []
  chain.trace({
    enabled: true,
    wrapMethod(obj, key, name) {
      if (name !== 'block.execute') return
      const target = obj as Record<string, (...args: unknown[]) => unknown>
      const method = target[key] as (...args: unknown[]) => unknown
      target[key] = function (this: unknown, ...args: unknown[]) {
        executed.push(args[0] as Block)
        return method.apply(this, args)
      }
    },
  })
  return executed
}
