import { type BatchOp, MemoryKV } from '@cairn/db'

/**
 * A {@link MemoryKV} whose batch writes (a block's commit) take `turns` turns of the event loop, as
 * a LevelDB write takes its time on a thread of its own: what runs meanwhile (the next block a
 * range sync executes ahead, the engine's queue) runs between the commit's start and its end.
 * Deterministic: a number of `setImmediate` turns, no clock. Set `turns` at any time.
 */
export class SlowCommitKV extends MemoryKV {
  turns = 0

  override async batch(ops: BatchOp[]): Promise<void> {
    for (let i = 0; i < this.turns; i++) await new Promise<void>((resolve) => setImmediate(resolve))
    return super.batch(ops)
  }
}
