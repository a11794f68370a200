// The one place the arbitrage service's errors become HTTP statuses and JSON bodies.
import { type EdgeRefusal, ServiceErrorCode } from '@cairn/service-kit'
import { CairnError, isCairnError } from '@cairn/utils'
import { ArbErrorCode } from '../errors.ts'

const STATUS: Record<string, number> = {
  [ArbErrorCode.BAD_REQUEST]: 400,
  [ArbErrorCode.CONFIG]: 400,
  [ArbErrorCode.CONFIG_CONFLICT]: 409,
  [ArbErrorCode.UNAUTHENTICATED]: 401,
  [ArbErrorCode.FORBIDDEN]: 403,
  [ArbErrorCode.EDGE_REFUSED]: 403,
  [ArbErrorCode.OVERLOADED]: 503,
  [ArbErrorCode.RATE_LIMITED]: 429,
  [ServiceErrorCode.STORAGE_FAILED]: 503,
}

export function edgeError(r: EdgeRefusal): CairnError {
  const overloaded = r.kind === 'overloaded' || r.kind === 'connection_limit'
  return new CairnError(overloaded ? ArbErrorCode.OVERLOADED : ArbErrorCode.EDGE_REFUSED, r.message, {
    fault: r.kind === 'overloaded' ? 'transient' : 'caller',
    ...(r.hint ? { hint: r.hint } : {}),
  })
}

export function httpError(err: unknown): { status: number; body: Record<string, unknown> } {
  if (isCairnError(err)) {
    let status = STATUS[err.code] ?? (err.fault === 'caller' ? 400 : err.fault === 'transient' ? 503 : 500)
    if (err.code === ArbErrorCode.OVERLOADED && err.fault === 'caller') status = 429
    const body: Record<string, unknown> = { code: err.code, message: err.message }
    if (err.hint) body.hint = err.hint
    return { status, body }
  }
  const e = err as { statusCode?: number; code?: string; message?: string }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500)
    return {
      status: e.statusCode,
      body: { code: e.code ?? ArbErrorCode.BAD_REQUEST, message: e.message ?? 'bad request' },
    }
  return { status: 500, body: { code: 'ARB_INTERNAL', message: 'internal error' } }
}
