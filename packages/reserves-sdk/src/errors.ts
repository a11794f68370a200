import type { ErrorBody } from './api-types.ts'

/** Codes the SDK itself gives when there is no service error to carry. */
export const SdkErrorCode = {
  /** No answer: the service is unreachable, the connection broke, or the request timed out (status 0). */
  NETWORK: 'SDK_NETWORK',
  /** An answer that is not the service's JSON (a proxy's error page, a truncated body). */
  BAD_RESPONSE: 'SDK_BAD_RESPONSE',
  /** `waitForSnapshot`: the build failed (the snapshot's `error` says why). */
  SNAPSHOT_FAILED: 'SDK_SNAPSHOT_FAILED',
  /** `waitForSnapshot`: still building when the time ran out. */
  TIMEOUT: 'SDK_TIMEOUT',
} as const
export type SdkErrorCode = (typeof SdkErrorCode)[keyof typeof SdkErrorCode]

/**
 * An error answer of the reserves service, or the SDK's own (`SDK_…`). `code` is the service's
 * stable code (`RESERVES_SNAPSHOT_UNKNOWN`, `RESERVES_UNAUTHENTICATED`…, never reused), `status`
 * the HTTP status (0 without an answer), `hint` what to do, `body` the whole error answer.
 *
 * @example
 * try { await client.getMyProof('2025-06-30') }
 * catch (e) { if (e instanceof ReservesApiError && e.code === 'RESERVES_SNAPSHOT_NOT_READY') … }
 */
export class ReservesApiError extends Error {
  override readonly name = 'ReservesApiError'
  readonly code: string
  readonly status: number
  readonly hint: string | undefined
  readonly body: ErrorBody | undefined
  /** The service's `x-request-id` of the failed request (quote it to the operator). */
  readonly requestId: string | undefined

  constructor(
    code: string,
    status: number,
    message: string,
    opts: { hint?: string; body?: ErrorBody; requestId?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.code = code
    this.status = status
    this.hint = opts.hint
    this.body = opts.body
    this.requestId = opts.requestId
  }

  /** Worth retrying later: no answer, 429 (after `Retry-After`) or a 5xx. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500
  }
}

/** True when `err` is a {@link ReservesApiError}, optionally with the given code. */
export function isReservesApiError(err: unknown, code?: string): err is ReservesApiError {
  return err instanceof ReservesApiError && (code === undefined || err.code === code)
}
