import type { Logger } from '@cairn/utils'
import pino from 'pino'
import { requestContext } from './request-context.ts'

export interface LoggerOptions {
  /** Default level: trace, debug, info, warn, error, fatal, silent. */
  level: string
  /** Per-module levels, e.g. `{ rpc: 'debug' }` (matched against the `module` binding). */
  modules?: Record<string, string>
  /** `json` (one object per line) or `pretty`; `auto` picks pretty when stdout is a terminal. */
  format: 'json' | 'pretty' | 'auto'
  /** Where lines go; stdout by default. */
  destination?: NodeJS.WritableStream
}

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'privateKey',
  '*.privateKey',
  'password',
  '*.password',
  'mnemonic',
  '*.mnemonic',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'jwt',
  '*.jwt',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'token',
  '*.token',
]

/**
 * A pino logger: JSON lines for machines, colourised lines on a terminal, secrets redacted, and
 * a child per module (`logger.child({ module: 'rpc' })`) that can run at its own level.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true)
  const base: pino.LoggerOptions = {
    level: lowestLevel(opts),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err },
    // Lines written while a request is served carry its id (see request-context.ts).
    mixin: () => {
      const ctx = requestContext.getStore()
      return ctx ? { reqId: ctx.reqId } : {}
    },
  }
  const stream = pretty
    ? pino.transport({
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      })
    : (opts.destination ?? pino.destination({ sync: false }))
  const root = pino(base, stream)
  return withModuleLevels(root, opts) as unknown as Logger
}

function lowestLevel(opts: LoggerOptions): string {
  const order = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
  const levels = [opts.level, ...Object.values(opts.modules ?? {})]
  return levels.reduce((a, b) => (order.indexOf(b) < order.indexOf(a) ? b : a), opts.level)
}

/** Children bound to a module get that module's level (or the default one). */
function withModuleLevels(logger: pino.Logger, opts: LoggerOptions): pino.Logger {
  const origChild = logger.child.bind(logger)
  logger.child = ((bindings: pino.Bindings, childOpts?: pino.ChildLoggerOptions) => {
    const mod = typeof bindings.module === 'string' ? bindings.module : undefined
    const level = (mod && opts.modules?.[mod]) ?? opts.level
    const child = origChild(bindings, { ...childOpts, level })
    return withModuleLevels(child, opts)
  }) as unknown as typeof logger.child
  return logger
}
