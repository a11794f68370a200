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
  /** No credentials, and the method needs more than `public` (HTTP 401). */
  AUTH_REQUIRED: 'RPC_AUTH_REQUIRED',
  /** Credentials sent but refused (HTTP 401). */
  AUTH_INVALID: 'RPC_AUTH_INVALID',
  /** Authenticated, but the role is below the method's (HTTP 403). */
  FORBIDDEN: 'RPC_FORBIDDEN',
  /** Over the rate limit (HTTP 429 with Retry-After). */
  RATE_LIMITED: 'RPC_RATE_LIMITED',
  /** Too many open connections from one IP (HTTP 429 with Retry-After). */
  CONNECTION_LIMIT: 'RPC_CONNECTION_LIMIT',
  /** Shedding load: the event loop lags past the threshold (HTTP 503 with Retry-After). */
  OVERLOADED: 'RPC_OVERLOADED',
  /** The shared rate-limit store is down and limits fail closed (HTTP 503 with Retry-After). */
  LIMIT_STORE_DOWN: 'RPC_LIMIT_STORE_DOWN',
  /** The Host header is not in http.vhosts (HTTP 403, as geth). */
  INVALID_HOST: 'RPC_INVALID_HOST',
  /** A POST whose Content-Type is not JSON (HTTP 415, as geth): what a cross-site form can send. */
  UNSUPPORTED_MEDIA_TYPE: 'RPC_UNSUPPORTED_MEDIA_TYPE',
  /** The method needs what this node's engine does not have (cairn_getValidators on a dev chain). */
  NOT_SUPPORTED: 'RPC_NOT_SUPPORTED',
  /** A request asks for more than one call may (geth's clientLimitExceededError, -38026). */
  CLIENT_LIMIT: 'RPC_CLIENT_LIMIT_EXCEEDED',
  /** eth_simulateV1 refusals, with geth's codes (-38010…-38025, -32015). */
  SIM_NONCE_TOO_LOW: 'RPC_SIM_NONCE_TOO_LOW',
  SIM_NONCE_TOO_HIGH: 'RPC_SIM_NONCE_TOO_HIGH',
  SIM_BASE_FEE_TOO_LOW: 'RPC_SIM_BASE_FEE_TOO_LOW',
  SIM_INTRINSIC_GAS: 'RPC_SIM_INTRINSIC_GAS',
  SIM_INSUFFICIENT_FUNDS: 'RPC_SIM_INSUFFICIENT_FUNDS',
  SIM_BLOCK_GAS_LIMIT: 'RPC_SIM_BLOCK_GAS_LIMIT_REACHED',
  SIM_BLOCK_NUMBER_INVALID: 'RPC_SIM_BLOCK_NUMBER_INVALID',
  SIM_BLOCK_TIMESTAMP_INVALID: 'RPC_SIM_BLOCK_TIMESTAMP_INVALID',
  SIM_SENDER_NOT_EOA: 'RPC_SIM_SENDER_NOT_EOA',
  SIM_INIT_CODE_TOO_LARGE: 'RPC_SIM_INIT_CODE_TOO_LARGE',
  /** A simulated call refused for another reason than those above (geth's internal error, -32603). */
  SIM_TX_INVALID: 'RPC_SIM_TX_INVALID',
  /** A simulated call failed in the EVM other than by reverting (-32015). */
  SIM_VM_ERROR: 'RPC_SIM_VM_ERROR',
  // Retired, never to be reused: RPC_TLS_UNREADABLE (TLS files are read by service-kit: SERVICE_TLS_UNREADABLE).
  /** The RPC server cannot listen (any reason but the port being taken). */
  LISTEN_FAILED: 'RPC_LISTEN_FAILED',
  /** The RPC port is taken by another process. */
  PORT_IN_USE: 'RPC_PORT_IN_USE',
  /** A read thread (`--rpc.threads`) stopped with the request in flight (-32603; it is restarted: retry). */
  READ_THREAD_STOPPED: 'RPC_READ_THREAD_STOPPED',
  /** A method Cairn names but does not do, as Anvil answers it (-32603 "Not implemented: why"): proof-of-work mining, legacy typed data. */
  NOT_IMPLEMENTED: 'RPC_NOT_IMPLEMENTED',
  /** EIP-7966: a sent transaction not in a block within the wait (code 4, its hash in `data`). */
  SYNC_TIMEOUT: 'RPC_SYNC_TIMEOUT',
} as const
export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode]

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
  [RpcErrorCode.AUTH_REQUIRED]: -32001,
  [RpcErrorCode.AUTH_INVALID]: -32001,
  [RpcErrorCode.FORBIDDEN]: -32006,
  [RpcErrorCode.RATE_LIMITED]: -32005,
  [RpcErrorCode.CONNECTION_LIMIT]: -32005,
  [RpcErrorCode.OVERLOADED]: -32005,
  [RpcErrorCode.LIMIT_STORE_DOWN]: -32005,
  [RpcErrorCode.INVALID_HOST]: -32006,
  [RpcErrorCode.UNSUPPORTED_MEDIA_TYPE]: -32600,
  [RpcErrorCode.CLIENT_LIMIT]: -38026,
  [RpcErrorCode.SIM_NONCE_TOO_LOW]: -38010,
  [RpcErrorCode.SIM_NONCE_TOO_HIGH]: -38011,
  [RpcErrorCode.SIM_BASE_FEE_TOO_LOW]: -38012,
  [RpcErrorCode.SIM_INTRINSIC_GAS]: -38013,
  [RpcErrorCode.SIM_INSUFFICIENT_FUNDS]: -38014,
  [RpcErrorCode.SIM_BLOCK_GAS_LIMIT]: -38015,
  [RpcErrorCode.SIM_BLOCK_NUMBER_INVALID]: -38020,
  [RpcErrorCode.SIM_BLOCK_TIMESTAMP_INVALID]: -38021,
  [RpcErrorCode.SIM_SENDER_NOT_EOA]: -38024,
  [RpcErrorCode.SIM_INIT_CODE_TOO_LARGE]: -38025,
  [RpcErrorCode.SIM_VM_ERROR]: -32015,
  [RpcErrorCode.SIM_TX_INVALID]: -32603,
  [RpcErrorCode.READ_THREAD_STOPPED]: -32603,
  [RpcErrorCode.NOT_IMPLEMENTED]: -32603,
  [RpcErrorCode.SYNC_TIMEOUT]: 4,
}

/** HTTP status of a refusal made before dispatch (auth, rate limit); 200 for anything else. */
const HTTP_STATUS: Record<string, number> = {
  [RpcErrorCode.AUTH_REQUIRED]: 401,
  [RpcErrorCode.AUTH_INVALID]: 401,
  [RpcErrorCode.FORBIDDEN]: 403,
  [RpcErrorCode.RATE_LIMITED]: 429,
  [RpcErrorCode.CONNECTION_LIMIT]: 429,
  [RpcErrorCode.OVERLOADED]: 503,
  [RpcErrorCode.LIMIT_STORE_DOWN]: 503,
  [RpcErrorCode.INVALID_HOST]: 403,
  [RpcErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
}

/** The HTTP status a JSON-RPC-over-HTTP answer carrying `err` gets. */
export function httpStatusOf(err: unknown): number {
  return isCairnError(err) ? (HTTP_STATUS[err.code] ?? 200) : 200
}

/**
 * @cairn/db's code of a damaged datadir (a read found a stored entry changed or missing): -32603,
 * the code in the message and in `data.code` for the operator to search for. Never "not found" or
 * null: the block exists, this node cannot read it. What and where is in the node's log.
 */
const DB_CORRUPT = 'DB_CORRUPT'

/** The one place where errors become JSON-RPC error objects. Never leaks a stack trace. */
export function toJsonRpcError(err: unknown): JsonRpcErrorObject {
  if (isCairnError(err)) {
    if ((err.code as string) === DB_CORRUPT) {
      const meta = err.meta as { entry?: unknown } | undefined
      const entry = typeof meta?.entry === 'string' ? ` (${meta.entry})` : ''
      return {
        code: -32603,
        message: `DB_CORRUPT: the node's chain database is damaged${entry}; its operator must restore it`,
        data: { code: DB_CORRUPT },
      }
    }
    const mapped = CODES[err.code]
    const code = mapped ?? (err.fault === 'internal' ? -32603 : -32000)
    // An internal fault's message stays in the logs; a mapped code's is meant for the caller.
    const out: JsonRpcErrorObject = {
      code,
      message: mapped === undefined && code === -32603 ? 'internal error' : err.message,
    }
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

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    rpc: RpcErrorCode
  }
}
