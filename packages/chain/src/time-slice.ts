import { setImmediate } from 'node:timers/promises'

/**
 * Milliseconds of a block's build, finish or commit that run before the event loop gets a turn.
 * A block of a thousand transfers is ~100 ms of main-thread work after its transactions ran
 * (roots, encodings, the batch); in one piece it held every arriving request that long, and the
 * signature workers and clients idled meanwhile. Shorter slices let more admission work in
 * between (a turn can hold a whole batch's decoding): at 2 ms a seal took several times its work
 * in wall time, its blocks filled up and transactions waited blocks behind (p99 inclusion 2.0–3.4
 * s against 1.0–1.1 at 10 ms, for the same transfers a second; docs/performance-history.md, seventh session).
 */
export const SLICE_MS = 10

/**
 * Cooperative time slicing for long synchronous work on the main thread: {@link due} says when
 * `sliceMs` have passed since the last turn, {@link pause} gives timers and I/O one turn. Only for
 * work whose inputs are fixed while it runs (the executor is held, readers use committed roots).
 */
export class TimeSlice {
  private since: number

  constructor(
    private readonly sliceMs = SLICE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.since = now()
  }

  /** Whether the slice is used up. */
  get due(): boolean {
    return this.now() - this.since >= this.sliceMs
  }

  /** Timers and I/O callbacks run, then the work goes on with a new slice. */
  async pause(): Promise<void> {
    await setImmediate()
    this.since = this.now()
  }

  /** {@link pause} if the slice is used up. */
  async check(): Promise<void> {
    if (this.due) await this.pause()
  }
}
