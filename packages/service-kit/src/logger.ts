import type { EventEmitter } from 'node:events'
import type { Logger } from '@cairn/utils'
import pino from 'pino'
import { requestContext } from './request-context.ts'
import { activeTraceFields } from './tracing.ts'

export interface LoggerOptions {
  /** Default level: trace, debug, info, warn, error, fatal, silent. */
  level: string
  /** Per-module levels, e.g. `{ rpc: 'debug' }` (matched against the `module` binding). */
  modules?: Record<string, string>
  /** `json` (one object per line) or `pretty`; `auto` picks pretty when stdout is a terminal. */
  format: 'json' | 'pretty' | 'auto'
  /** Where lines go; stdout by default. */
  destination?: NodeJS.WritableStream
  /** Also write JSON lines to a file, rotated by size and/or time (pino-roll, in a worker thread). */
  file?: LogFileOptions
  /**
   * Called once when stdout's reader has gone away (EPIPE on the JSON destination): pino then
   * drops every later line, so a long-running service should stop cleanly rather than run blind.
   */
  onBrokenPipe?: () => void
}

export interface LogFileOptions {
  /** The log file name; pino-roll numbers the files it writes: `node.1.log`, `node.2.log`… (highest = current). */
  path: string
  /** Rotate at this size: MB as a number, or `500k`, `100m`, `1g`. */
  size?: number | string
  /** Rotate every `daily`, `hourly` or this many milliseconds. */
  interval?: 'daily' | 'hourly' | number
  /** Rotated files kept besides the active one (default 7); older ones are deleted. */
  keep?: number
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
    // Lines written while a request is served carry its id (see request-context.ts) and, with
    // tracing on, the ids of the active span.
    mixin: () => {
      const ctx = requestContext.getStore()
      const ids = activeTraceFields()
      return ctx ? { reqId: ctx.reqId, ...ids } : (ids ?? {})
    },
  }
  const stdout = pretty
    ? pino.transport({
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      })
    : (opts.destination ?? brokenPipeAware(pino.destination({ sync: false }), opts.onBrokenPipe))
  const file = opts.file ? fileStream(opts.file) : undefined
  const stream = file
    ? pino.multistream([
        { level: 'trace', stream: stdout },
        { level: 'trace', stream: file },
      ])
    : stdout
  const root = pino(base, stream)
  // The streams this logger opened itself (a caller's `destination` is the caller's to close).
  const owned = [...(opts.destination && !pretty ? [] : [stdout]), ...(file ? [file] : [])]
  const state: LevelState = { level: opts.level, modules: { ...opts.modules }, root, owned, loggers: new Set() }
  return withModuleLevels(root, state) as unknown as Logger
}

/** The levels in force and every logger made from one root, so that {@link setLogLevels} reaches them all. */
interface LevelState {
  level: string
  modules: Record<string, string>
  root: pino.Logger
  owned: NodeJS.WritableStream[]
  loggers: Set<{ ref: WeakRef<pino.Logger>; mod: string | undefined }>
}
const stateOf = new WeakMap<object, LevelState>()
const forget = new FinalizationRegistry<() => void>((drop) => drop())

/**
 * Changes the default and per-module levels of a logger made by {@link createLogger}, and of every
 * child made from it so far or later (a config reload). Unknown loggers are left alone.
 */
export function setLogLevels(logger: Logger, levels: { level: string; modules?: Record<string, string> }): void {
  const state = stateOf.get(logger as object)
  if (!state) return
  state.level = levels.level
  state.modules = { ...levels.modules }
  state.root.level = lowestLevel(state)
  for (const entry of state.loggers) {
    const child = entry.ref.deref()
    if (child) child.level = (entry.mod && state.modules[entry.mod]) ?? state.level
    else state.loggers.delete(entry)
  }
}

/**
 * Writes out everything the logger still holds and closes the streams it opened, so that the last
 * lines before `process.exit` ("stopped cleanly") are not lost. Call it last: lines logged after
 * it are dropped. stdout is written asynchronously, and pino's `flush(cb)` answers at once while a
 * write is still in flight; ending the stream waits for that write. Log files go through a worker
 * thread, which ending also drains. Gives up after `timeoutMs`. Loggers not made by
 * {@link createLogger} resolve at once.
 */
export function closeLogs(logger: Logger, timeoutMs = 2000): Promise<void> {
  const state = stateOf.get(logger as object)
  if (!state) return Promise.resolve()
  const ended = state.owned.map(
    (stream) =>
      new Promise<void>((resolve) => {
        stream.once('close', () => resolve())
        stream.once('error', () => resolve())
        try {
          stream.end()
        } catch {
          resolve() // already closed
        }
      }),
  )
  state.owned = []
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    void Promise.all(ended).then(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

function fileStream(file: LogFileOptions): NodeJS.WritableStream {
  return pino.transport({
    target: 'pino-roll',
    options: {
      file: file.path,
      size: file.size,
      frequency: file.interval,
      limit: { count: file.keep ?? 7 },
      mkdir: true,
    },
  })
}

function lowestLevel(opts: { level: string; modules?: Record<string, string> | undefined }): string {
  const order = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']
  const levels = [opts.level, ...Object.values(opts.modules ?? {})]
  return levels.reduce((a, b) => (order.indexOf(b) < order.indexOf(a) ? b : a), opts.level)
}

/** Children bound to a module get that module's level (or the default one). */
function withModuleLevels(logger: pino.Logger, state: LevelState): pino.Logger {
  stateOf.set(logger, state)
  const origChild = logger.child.bind(logger)
  logger.child = ((bindings: pino.Bindings, childOpts?: pino.ChildLoggerOptions) => {
    const mod = typeof bindings.module === 'string' ? bindings.module : undefined
    const level = (mod && state.modules[mod]) ?? state.level
    const child = origChild(bindings, { ...childOpts, level })
    const entry = { ref: new WeakRef(child), mod }
    state.loggers.add(entry)
    forget.register(child, () => state.loggers.delete(entry))
    return withModuleLevels(child, state)
  }) as unknown as typeof logger.child
  return logger
}

/** `stream` with `onBrokenPipe` called (once) on its first EPIPE; pino's own listener mutes it. */
function brokenPipeAware<T extends EventEmitter>(stream: T, onBrokenPipe?: () => void): T {
  if (!onBrokenPipe) return stream
  const listener = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') return
    stream.removeListener('error', listener)
    onBrokenPipe()
  }
  stream.on('error', listener)
  return stream
}
