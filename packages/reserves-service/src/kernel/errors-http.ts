import { ReservesErrorCode } from '@cairn/reserves'
import type { EdgeRefusal } from '@cairn/service-kit'
import { CairnError, isCairnError } from '@cairn/utils'

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
  [ReservesErrorCode.INVALID_HOST]: 403,
  [ReservesErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ReservesErrorCode.CONNECTION_LIMIT]: 429,
  [ReservesErrorCode.OVERLOADED]: 503,
  [ReservesErrorCode.SNAPSHOT_EXISTS]: 409,
  [ReservesErrorCode.BUILD_STATE]: 409,
  [ReservesErrorCode.RATE_LIMITED]: 429,
  [ReservesErrorCode.WEBHOOK_UNKNOWN]: 404,
  [ReservesErrorCode.WEBHOOK_DELIVERY_STATE]: 409,
  [ReservesErrorCode.ASSET_SOURCE_UNKNOWN]: 404,
  [ReservesErrorCode.RECONCILIATION_UNKNOWN]: 404,
  [ReservesErrorCode.RECONCILIATION_READ_FAILED]: 502,
  [ReservesErrorCode.LEDGER_CONFLICT]: 409,
}

const EDGE_CODES = {
  invalid_host: ReservesErrorCode.INVALID_HOST,
  origin_forbidden: ReservesErrorCode.INVALID_HOST,
  content_type: ReservesErrorCode.UNSUPPORTED_MEDIA_TYPE,
  connection_limit: ReservesErrorCode.CONNECTION_LIMIT,
  overloaded: ReservesErrorCode.OVERLOADED,
} as const

/** A request refused at service-kit's edge as this service's error (its status comes from the table above). */
export function edgeError(refusal: EdgeRefusal): CairnError {
  return new CairnError(EDGE_CODES[refusal.kind], refusal.message, {
    fault: refusal.kind === 'overloaded' ? 'transient' : 'caller',
    ...(refusal.hint ? { hint: refusal.hint } : {}),
  })
}

/** The HTTP status and JSON body of any error (the one place error codes become HTTP statuses). */
export function httpError(err: unknown): { status: number; body: Record<string, unknown> } {
  if (isCairnError(err)) {
    // an outside dependency failing (a JWKS, Redis, the chain: OUTBOUND_*) is 503, worth retrying
    const status = STATUS[err.code] ?? (err.fault === 'caller' ? 400 : err.fault === 'transient' ? 503 : 500)
    const body: Record<string, unknown> = { code: err.code, message: err.message }
    if (err.hint) body.hint = err.hint
    if (isCairnError(err, ReservesErrorCode.INPUT_INVALID) && err.meta && 'errors' in err.meta) {
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
