import { CairnError, isCairnError } from '@cairn/utils'

/** Stable error codes of the RPC domain. */
export const RpcErrorCode = {
  PARSE: 'RPC_PARSE_ERROR',
  INVALID_REQUEST: 'RPC_INVALID_REQUEST',
  METHOD_NOT_FOUND: 'RPC_METHOD_NOT_FOUND',
  INVALID_PARAMS: 'RPC_INVALID_PARAMS',
  NOT_FOUND: 'RPC_NOT_FOUND',
  REVERTED: 'RPC_EXECUTION_REVERTED',
  LIMIT: 'RPC_LIMIT_EXCEEDED',
  BATCH_TOO_LARGE: 'RPC_BATCH_TOO_LARGE',
  RESPONSE_TOO_LARGE: 'RPC_RESPONSE_TOO_LARGE',
  UNKNOWN_ACCOUNT: 'RPC_UNKNOWN_ACCOUNT',
  EXECUTION_FAILED: 'RPC_EXECUTION_FAILED',
  TIMEOUT: 'RPC_TIMEOUT',
} as const

export interface JsonRpcErrorObject {
  code: number
  message: string
  data?: unknown
}

/** JSON-RPC code per Cairn error code; anything else caller-made is -32000, internal -32603. */
const CODES: Record<string, number> = {
  [RpcErrorCode.PARSE]: -32700,
  [RpcErrorCode.INVALID_REQUEST]: -32600,
  [RpcErrorCode.METHOD_NOT_FOUND]: -32601,
  [RpcErrorCode.INVALID_PARAMS]: -32602,
  [RpcErrorCode.REVERTED]: 3,
  [RpcErrorCode.LIMIT]: -32005,
  [RpcErrorCode.BATCH_TOO_LARGE]: -32600,
  [RpcErrorCode.RESPONSE_TOO_LARGE]: -32003,
  [RpcErrorCode.TIMEOUT]: -32002,
}

/** The one place where errors become JSON-RPC error objects. Never leaks a stack trace. */
export function toJsonRpcError(err: unknown): JsonRpcErrorObject {
  if (isCairnError(err)) {
    const code = CODES[err.code] ?? (err.fault === 'internal' ? -32603 : -32000)
    const out: JsonRpcErrorObject = { code, message: code === -32603 ? 'internal error' : err.message }
    if (err.meta && 'data' in err.meta) out.data = err.meta.data
    return out
  }
  return { code: -32603, message: 'internal error' }
}

export function invalidParams(message: string): CairnError {
  return new CairnError(RpcErrorCode.INVALID_PARAMS, message, { fault: 'caller' })
}

export function notFound(message: string): CairnError {
  return new CairnError(RpcErrorCode.NOT_FOUND, message, { fault: 'caller' })
}
