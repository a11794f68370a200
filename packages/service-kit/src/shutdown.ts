import { CairnError, type Logger } from '@cairn/utils'

export interface ShutdownStep {
  name: string
  run(): Promise<void>
}

/**
 * Closes a service in reverse order of start on SIGINT/SIGTERM: each step runs once, errors are
 * logged and do not stop later steps. A second signal exits at once with code 130.
 */
export class Shutdown {
  private steps: ShutdownStep[] = []
  private closing: Promise<void> | undefined
  private readonly handlers = new Map<NodeJS.Signals, () => void>()

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs = 10_000,
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

  private async runSteps(): Promise<void> {
    const timer = setTimeout(() => {
      this.logger.error({ deadlineMs: this.deadlineMs }, 'shutdown deadline passed; exiting')
      process.exit(1)
    }, this.deadlineMs)
    timer.unref()
    // Holds the process open until every step is done: a step that waits on something unref'd
    // (a worker thread's exit) would otherwise let Node exit with code 0 half-way, before later
    // steps (closing the database) and the caller's last log line run.
    const hold = setInterval(() => {}, 60_000)
    let failed = false
    for (const step of this.steps) {
      try {
        await step.run()
        this.logger.debug({ step: step.name }, 'closed')
      } catch (err) {
        failed = true
        this.logger.error({ err, step: step.name }, 'shutdown step failed')
      }
    }
    clearTimeout(timer)
    clearInterval(hold)
    for (const [sig, h] of this.handlers) process.off(sig, h)
    if (failed) throw new CairnError('SERVICE_SHUTDOWN_INCOMPLETE', 'one or more shutdown steps failed; see the log')
  }
}
