/**
 * The logging interface components depend on: the subset of pino's API Cairn uses, so any
 * package can log without depending on pino; the service kit supplies the real logger.
 */
export interface LogFn {
  (msg: string): void
  (obj: Record<string, unknown>, msg?: string): void
}

export interface Logger {
  trace: LogFn
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  fatal: LogFn
  child(bindings: Record<string, unknown>): Logger
}

const noop: LogFn = () => {}

/** A logger that drops everything (tests, library use without a logger). */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => silentLogger,
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

/**
 * A logger whose every line goes to `write(level, fields, msg)` (children share it): for tests
 * that record or print what a component logs.
 */
export function writerLogger(write: (level: LogLevel, fields: Record<string, unknown>, msg: string) => void): Logger {
  const at =
    (level: LogLevel): LogFn =>
    (a: string | Record<string, unknown>, b?: string) =>
      typeof a === 'string' ? write(level, {}, a) : write(level, a, b ?? '')
  const logger: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => logger,
  }
  return logger
}
