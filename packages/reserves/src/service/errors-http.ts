import { isCairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'

const STATUS: Record<string, number> = {
  [ReservesErrorCode.INPUT_INVALID]: 400,
  [ReservesErrorCode.OVERFLOW]: 400,
  [ReservesErrorCode.DUPLICATE_USER]: 400,
  [ReservesErrorCode.BAD_OPTIONS]: 400,
  [ReservesErrorCode.USER_UNKNOWN]: 404,
  [ReservesErrorCode.SNAPSHOT_UNKNOWN]: 404,
  [ReservesErrorCode.SNAPSHOT_NOT_READY]: 409,
  [ReservesErrorCode.UNAUTHENTICATED]: 401,
  [ReservesErrorCode.FORBIDDEN]: 403,
  [ReservesErrorCode.STORAGE_FAILED]: 503,
  [ReservesErrorCode.ANCHOR_FAILED]: 502,
}

/** The HTTP status and JSON body of any error (the one place error codes become HTTP statuses). */
export function httpError(err: unknown): { status: number; body: Record<string, unknown> } {
  if (isCairnError(err)) {
    // an outside dependency failing (a JWKS, Redis, the chain: OUTBOUND_*) is 503, worth retrying
    const status = STATUS[err.code] ?? (err.fault === 'caller' ? 400 : err.fault === 'transient' ? 503 : 500)
    const body: Record<string, unknown> = { code: err.code, message: err.message }
    if (err.hint) body.hint = err.hint
    if (err.code === ReservesErrorCode.INPUT_INVALID && err.meta) {
      body.errorCount = err.meta.errorCount
      body.errors = err.meta.errors
    }
    return { status, body }
  }
  const e = err as { statusCode?: number; code?: string; message?: string }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return {
      status: e.statusCode,
      body: { code: e.code ?? 'RESERVES_BAD_REQUEST', message: e.message ?? 'bad request' },
    }
  return { status: 500, body: { code: 'RESERVES_INTERNAL', message: 'internal error' } }
}
