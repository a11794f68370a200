/**
 * A clock the test moves: timers fire only when {@link advance} passes them, in time order (ties
 * in the order they were set). Nothing in the harness reads the wall clock.
 */
export class ManualClock {
  private ms: number
  private seq = 0
  private timers: { at: number; seq: number; fn: () => void }[] = []

  constructor(startMs = 1_700_000_000_000) {
    this.ms = startMs
  }

  /** Milliseconds since the epoch. */
  now(): number {
    return this.ms
  }

  /** Seconds since the epoch (what engines and the chain's future check read). */
  seconds(): number {
    return Math.floor(this.ms / 1000)
  }

  setTimeout(fn: () => void, delayMs: number): void {
    this.timers.push({ at: this.ms + Math.max(0, delayMs), seq: this.seq++, fn })
  }

  /** When the next timer is due, if any. */
  nextDue(): number | undefined {
    let next: number | undefined
    for (const t of this.timers) if (next === undefined || t.at < next) next = t.at
    return next
  }

  /** Moves to the next due time (at most `untilMs`) and fires every timer due then; false when none. */
  step(untilMs = Number.POSITIVE_INFINITY): boolean {
    const at = this.nextDue()
    if (at === undefined || at > untilMs) return false
    this.ms = Math.max(this.ms, at)
    const due = this.timers.filter((t) => t.at <= this.ms).sort((a, b) => a.at - b.at || a.seq - b.seq)
    this.timers = this.timers.filter((t) => t.at > this.ms)
    for (const t of due) t.fn()
    return true
  }

  /** Moves the clock forward by `ms` without firing anything past it. */
  advance(ms: number): void {
    const target = this.ms + ms
    while (this.step(target)) {}
    this.ms = target
  }

  /** Sets the time (forward only), firing nothing. */
  jump(ms: number): void {
    this.ms += ms
  }
}
