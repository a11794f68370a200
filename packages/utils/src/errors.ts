/**
 * One error model for every Cairn package.
 *
 * Every error a package throws on purpose is a {@link CairnError}: it carries a stable string
 * `code` (per domain, e.g. `CHAIN_PARENT_UNKNOWN`, never reused once published), says who is to
 * blame (`fault`), and keeps a short message a user can act on. Transports (JSON-RPC, HTTP, CLI)
 * map codes to their own numbers in one place each; core code never knows about those numbers.
 */

/**
 * Who is to blame: the caller sent bad input, a peer sent something invalid over the network (the
 * caller of a network component penalizes it), a transient fault may go away on retry, or a bug.
 */
export type ErrorFault = 'caller' | 'peer' | 'transient' | 'internal'

/**
 * The registry of error codes: every domain adds its own union of codes here by module
 * augmentation, next to the `const` object that names them:
 *
 * ```ts
 * declare module '@cairn/utils' {
 *   interface CairnErrorCodes { chain: ChainErrorCode }
 * }
 * ```
 *
 * {@link CairnErrorCode} is then the union of every registered domain's codes, so a code that no
 * domain declares (a typo, a string literal made up on the spot) fails `tsc`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by each domain's module augmentation
export interface CairnErrorCodes {}

/** Every error code some domain declares (see {@link CairnErrorCodes}). */
export type CairnErrorCode = CairnErrorCodes[keyof CairnErrorCodes]

/**
 * The shape of `meta` for the codes whose consumers read it (Lodestar's typed error pattern),
 * added by module augmentation beside the code: `interface CairnErrorMetas { RESERVES_INPUT_INVALID: {…} }`.
 * A code not listed here carries a free-form record.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by each domain's module augmentation
export interface CairnErrorMetas {}

/** The `meta` type of code `C`. */
export type CairnErrorMeta<C extends CairnErrorCode = CairnErrorCode> = C extends keyof CairnErrorMetas
  ? CairnErrorMetas[C]
  : Record<string, unknown>

export interface CairnErrorOptions<C extends CairnErrorCode = CairnErrorCode> {
  fault?: ErrorFault
  cause?: unknown
  /** Machine-readable context (never secrets); typed per code where {@link CairnErrorMetas} says. */
  meta?: CairnErrorMeta<C>
  /** A hint that tells the user how to fix the problem. */
  hint?: string
}

export class CairnError<C extends CairnErrorCode = CairnErrorCode> extends Error {
  override readonly name: string = 'CairnError'
  readonly code: C
  readonly fault: ErrorFault
  readonly meta: CairnErrorMeta<C> | undefined
  readonly hint: string | undefined

  constructor(code: C, message: string, opts: CairnErrorOptions<C> = {}) {
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

/** True when `err` is a CairnError, optionally with the given code (then its `meta` is typed). */
export function isCairnError<C extends CairnErrorCode = CairnErrorCode>(err: unknown, code?: C): err is CairnError<C> {
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
