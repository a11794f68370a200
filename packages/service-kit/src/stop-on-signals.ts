import type { Logger } from '@cairn/utils'
import { closeLogs } from './logger.ts'

export interface StopOnSignalsModules {
  /** Ends the process (default `process.exit`; tests pass their own). */
  exit?: (code: number) => void
  /** The process whose signals and stdio are watched (default `process`). */
  proc?: Pick<NodeJS.Process, 'on' | 'off' | 'stdout' | 'stderr'>
}

/**
 * How a long-running command (`cairn start`, `cairn arb start`, `cairn reserves serve`) stops: on
 * SIGINT or SIGTERM, or when the reader of its stdout or stderr goes away (EPIPE: `… | head`, a log
 * shipper that died). Nothing can be said after an EPIPE, so the service stops as on SIGTERM,
 * cleanly, rather than run blind or die on the unhandled error. Once: "shutting down", `close()`,
 * "stopped cleanly", the logs flushed, exit 0 (1 when `close` failed). A second signal exits 130
 * at once.
 *
 * Made before the logger (whose `onBrokenPipe` is {@link onBrokenPipe}) and armed with the service
 * once it is up ({@link arm}): an EPIPE in between stops it as soon as it is armed.
 */
export class StopOnSignals {
  private close: (() => Promise<void>) | null = null
  private logger: Logger | null = null
  private stopping = false
  private brokenBeforeArmed = false
  private readonly exit: (code: number) => void
  private readonly proc: NonNullable<StopOnSignalsModules['proc']>

  constructor(modules: StopOnSignalsModules = {}) {
    this.exit = modules.exit ?? ((code) => process.exit(code))
    this.proc = modules.proc ?? process
  }

  /** For `createLogger({ onBrokenPipe })`: the JSON log destination met EPIPE. */
  readonly onBrokenPipe = (): void => {
    if (this.close) this.stop('EPIPE')
    else this.brokenBeforeArmed = true
  }

  /** Watches the signals and stdio; `close` stops the service (its database closed). */
  arm(logger: Logger, close: () => Promise<void>): void {
    this.logger = logger
    this.close = close
    const onSignal = (sig: NodeJS.Signals) => this.signal(sig)
    const onStdioError = (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err
      this.onBrokenPipe()
    }
    this.proc.on('SIGINT', onSignal)
    this.proc.on('SIGTERM', onSignal)
    this.proc.stdout.on('error', onStdioError)
    this.proc.stderr.on('error', onStdioError)
    if (this.brokenBeforeArmed) this.stop('EPIPE')
  }

  /** Stops once; `why` is logged (a signal's name, or EPIPE). */
  stop(why: string): void {
    const logger = this.logger
    const close = this.close
    if (this.stopping || !logger || !close) return
    this.stopping = true
    logger.info({ signal: why }, 'shutting down')
    void close().then(
      () => {
        logger.info('stopped cleanly')
        void closeLogs(logger).then(() => this.exit(0))
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        void closeLogs(logger).then(() => this.exit(1))
      },
    )
  }

  private signal(sig: NodeJS.Signals): void {
    if (!this.stopping) {
      this.stop(sig)
      return
    }
    try {
      this.proc.stderr.write('second signal: exiting now\n')
    } catch {}
    this.exit(130)
  }
}
