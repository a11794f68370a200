import { CairnError, type Logger } from '@cairn/utils'

export interface ShutdownStep {
  name: string
  run(): Promise<void>
}

/** What the process still holds (`process.getActiveResourcesInfo()`), counted by kind: `{ TCPSocketWrap: 3, Timeout: 2 }`. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

/**
 * Closes a service in reverse order of start on SIGINT/SIGTERM: each step runs once, errors are
 * logged and do not stop later steps. A second signal exits at once with code 130.
 *
 * A step still running after `slowStepMs` is logged (warn "shutdown step slow": the step, how long,
 * the steps after it, what the process holds), and again each `slowStepMs`; past `deadlineMs` the
 * same is logged as an error and the process exits 1 — so a stop that a supervisor's grace period
 * (compose: 10 s) would end with SIGKILL says first what it was waiting on.
 */
export class Shutdown {
  private steps: ShutdownStep[] = []
  private closing: Promise<void> | undefined
  private readonly handlers = new Map<NodeJS.Signals, () => void>()

  /** The step running now, and since when (ms). */
  private current: { name: string; since: number; index: number } | undefined

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs = 10_000,
    private readonly slowStepMs = 2_000,
  ) {}

  /** Registers a step; steps run last-registered first. */
  add(name: string, run: () => Promise<void>): void {
    this.steps.unshift({ name, run })
  }

  /** Installs the signal handlers; `onDone(code)` gets the exit code. */
  install(onDone: (code: number) => void): void {
    for (const sig of ['SIGINT', 'SIGTERM'] as NodeJS.Signals[]) {
      const handler = () => {
        if (this.closing) {
          this.logger.warn({ signal: sig }, 'second signal: exiting now')
          onDone(130)
          return
        }
        this.logger.info({ signal: sig }, 'shutting down')
        void this.close().then(
          () => onDone(0),
          () => onDone(1),
        )
      }
      this.handlers.set(sig, handler)
      process.on(sig, handler)
    }
  }

  close(): Promise<void> {
    if (!this.closing) this.closing = this.runSteps()
    return this.closing
  }

  /** What shutdown waits on now: the step, how long it has run, the steps after it, the process's handles. */
  private waitingOn(): Record<string, unknown> {
    const c = this.current
    return {
      step: c?.name ?? null,
      stepMs: c ? Date.now() - c.since : 0,
      pending: c ? this.steps.slice(c.index + 1).map((s) => s.name) : [],
      resources: activeResources(),
    }
  }

  private async runSteps(): Promise<void> {
    const timer = setTimeout(() => {
      this.logger.error({ deadlineMs: this.deadlineMs, ...this.waitingOn() }, 'shutdown deadline passed; exiting')
      process.exit(1)
    }, this.deadlineMs)
    timer.unref()
    const slow = setInterval(() => {
      if (this.current && Date.now() - this.current.since >= this.slowStepMs)
        this.logger.warn(this.waitingOn(), 'shutdown step slow')
    }, this.slowStepMs)
    slow.unref()
    // Holds the process open until every step is done: a step that waits on something unref'd
    // (a worker thread's exit) would otherwise let Node exit with code 0 half-way, before later
    // steps (closing the database) and the caller's last log line run.
    const hold = setInterval(() => {}, 60_000)
    let failed = false
    for (const [index, step] of this.steps.entries()) {
      this.current = { name: step.name, since: Date.now(), index }
      try {
        await step.run()
        this.logger.debug({ step: step.name, ms: Date.now() - this.current.since }, 'closed')
      } catch (err) {
        failed = true
        this.logger.error({ err, step: step.name }, 'shutdown step failed')
      }
    }
    this.current = undefined
    clearTimeout(timer)
    clearInterval(slow)
    clearInterval(hold)
    for (const [sig, h] of this.handlers) process.off(sig, h)
    if (failed) throw new CairnError('SERVICE_SHUTDOWN_INCOMPLETE', 'one or more shutdown steps failed; see the log')
  }
}
