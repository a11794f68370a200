import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'

/** Something that knows how late the event loop runs, in ms. */
export interface LagSource {
  lagMs(): number
  close(): void
}

/**
 * Event-loop lag from `perf_hooks.monitorEventLoopDelay`: the p99 of the loop's delay over the
 * last full window (1 s) or the current one, whichever is worse, minus the sampling resolution
 * (a sample is the whole interval between two ticks). Sustained lag shows within a window; a
 * single GC pause barely moves a p99.
 */
export class EventLoopLag implements LagSource {
  private readonly histogram: IntervalHistogram
  private readonly timer: NodeJS.Timeout
  private lastWindowNs = 0

  constructor(
    private readonly opts: { resolutionMs: number; windowMs: number } = { resolutionMs: 10, windowMs: 1000 },
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: opts.resolutionMs })
    this.histogram.enable()
    this.timer = setInterval(() => {
      this.lastWindowNs = this.p99()
      this.histogram.reset()
    }, opts.windowMs)
    this.timer.unref()
  }

  lagMs(): number {
    const ns = Math.max(this.lastWindowNs, this.p99())
    return Math.max(0, ns / 1e6 - this.opts.resolutionMs)
  }

  close(): void {
    clearInterval(this.timer)
    this.histogram.disable()
  }

  private p99(): number {
    return this.histogram.count > 0 ? this.histogram.percentile(99) : 0
  }
}
