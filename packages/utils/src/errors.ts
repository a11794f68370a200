/**
 * One error model for every Cairn package.
 *
 * Every error a package throws on purpose is a {@link CairnError}: it carries a stable string
 * `code` (per domain, e.g. `CHAIN_PARENT_UNKNOWN`, never reused once published), says who is to
 * blame (`fault`), and keeps a short message a user can act on. Transports (JSON-RPC, HTTP, CLI)
 * map codes to their own numbers in one place each; core code never knows about those numbers.
 */

/** Who is to blame: the caller sent bad input, a transient fault may go away on retry, or a bug. */
export type ErrorFault = 'caller' | 'transient' | 'internal'

export interface CairnErrorOptions {
  fault?: ErrorFault
  cause?: unknown
  /** Machine-readable context (never secrets). */
  meta?: Record<string, unknown>
  /** A hint that tells the user how to fix the problem. */
  hint?: string
}

export class CairnError extends Error {
  override readonly name: string = 'CairnError'
  readonly code: string
  readonly fault: ErrorFault
  readonly meta: Record<string, unknown> | undefined
  readonly hint: string | undefined

  constructor(code: string, message: string, opts: CairnErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.code = code
    this.fault = opts.fault ?? 'internal'
    this.meta = opts.meta
    this.hint = opts.hint
  }

  /** The message followed by the hint, as a CLI prints it. */
  get userMessage(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message
  }
}

/** True when `err` is a CairnError, optionally with the given code. */
export function isCairnError(err: unknown, code?: string): err is CairnError {
  return err instanceof CairnError && (code === undefined || err.code === code)
}

/** Walks the `cause` chain and returns the first error for which `fn` is true. */
export function walkCause(err: unknown, fn: (e: unknown) => boolean): unknown {
  let cur: unknown = err
  for (let depth = 0; cur !== undefined && cur !== null && depth < 16; depth++) {
    if (fn(cur)) return cur
    cur = (cur as { cause?: unknown }).cause
  }
  return undefined
}

/** A message for any thrown value, without a stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
