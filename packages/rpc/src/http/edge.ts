import type { EdgeRefusal } from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import { RpcErrorCode } from '../errors.ts'
import { isJsonContentType } from './content-type.ts'

/** The RPC port's edge checks beyond service-kit's defaults: a POST must carry a JSON-RPC media type. */
export const RPC_EDGE_CHECKS = { contentType: isJsonContentType }

const CODES = {
  invalid_host: RpcErrorCode.INVALID_HOST,
  origin_forbidden: RpcErrorCode.INVALID_HOST,
  content_type: RpcErrorCode.UNSUPPORTED_MEDIA_TYPE,
  connection_limit: RpcErrorCode.CONNECTION_LIMIT,
  overloaded: RpcErrorCode.OVERLOADED,
} as const

/**
 * A request refused at service-kit's edge as the RPC's error (its HTTP status and JSON-RPC code
 * come from errors.ts): 403 for a foreign host or WebSocket origin, 415 for a non-JSON POST, 429
 * past the per-IP connection cap, 503 while shedding load. `retryAfter` rides in the error's data.
 */
export function edgeError(refusal: EdgeRefusal): CairnError {
  const retry = refusal.retryAfterSeconds
  return new CairnError(CODES[refusal.kind], refusal.message, {
    fault: refusal.kind === 'overloaded' ? 'transient' : 'caller',
    ...(refusal.hint ? { hint: refusal.hint } : {}),
    ...(retry !== undefined ? { meta: { data: { retryAfter: retry } } } : {}),
  })
}
