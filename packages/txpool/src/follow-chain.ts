import type { ChainEvents } from '@cairn/chain'
import type { Logger, TypedEmitter } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'

/** The part of the pool that follows the chain. */
export interface HeadFollower {
  onNewHead(head: Block, removed: Block[]): Promise<void>
}

/** A pool following a chain's events; see {@link followChain}. */
export interface ChainFollower {
  /** Resolves once the pool has taken in every head change emitted so far. */
  settled(): Promise<void>
  /** Stops following. */
  stop(): void
}

/**
 * Makes the pool follow the chain's events, wherever a block came from (the local producer, a
 * peer, sync, an import, a rewind): each new head drops the transactions it included and
 * re-reads their senders; a reorg re-injects the transactions of the removed blocks that the new
 * branch does not hold; a rewind (a reorg that adds nothing, evm_revert) re-reads every sender
 * without re-injecting. Updates run one after another, in event order; a producer that must build
 * on an up-to-date pool awaits {@link ChainFollower.settled}.
 */
export function followChain(
  pool: HeadFollower,
  events: TypedEmitter<ChainEvents>,
  modules: { logger: Logger },
): ChainFollower {
  let queue: Promise<void> = Promise.resolve()
  let reorg: ChainEvents['reorg'] | undefined
  const update = (head: Block, removed: Block[]) => {
    queue = queue
      .then(() => pool.onNewHead(head, removed))
      .catch((err: unknown) => modules.logger.error({ err }, 'txpool: new head update failed'))
  }
  const offReorg = events.on('reorg', (r) => {
    if (r.added.length === 0) update(r.newHead, [])
    else reorg = r
  })
  const offHead = events.on('newHead', ({ block }) => {
    if (reorg === undefined) return update(block, [])
    // A reorg: the pool moves once, to the new branch's head, with the removed blocks.
    if (block !== reorg.newHead) return
    const removed = reorg.removed
    reorg = undefined
    update(block, removed)
  })
  return {
    settled: () => queue,
    stop() {
      offReorg()
      offHead()
    },
  }
}
