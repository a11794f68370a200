import type { MethodDef } from './method.ts'
import { debugTraceMethods } from './methods/debug-trace.ts'
import { devMethods } from './methods/dev.ts'
import { devImpersonateMethods } from './methods/dev-impersonate.ts'
import { devStateMethods } from './methods/dev-state.ts'
import { ethBlockMethods } from './methods/eth-blocks.ts'
import { ethCapabilitiesMethods } from './methods/eth-capabilities.ts'
import { ethConfigMethods } from './methods/eth-config.ts'
import { ethFilterMethods } from './methods/eth-filters.ts'
import { ethLogMethods } from './methods/eth-logs.ts'
import { ethMiscMethods } from './methods/eth-misc.ts'
import { ethSendMethods } from './methods/eth-send.ts'
import { ethSignMethods } from './methods/eth-sign.ts'
import { ethSimulateMethods } from './methods/eth-simulate.ts'
import { ethStateMethods } from './methods/eth-state.ts'
import { netWeb3Methods } from './methods/net-web3.ts'
import { txpoolMethods } from './methods/txpool.ts'
import { subscriptionMethods } from './subscriptions.ts'

/** Every method Cairn serves, declared (never discovered by reflection). */
export const ALL_METHODS: MethodDef[] = [
  ...netWeb3Methods,
  ...ethMiscMethods,
  ...ethConfigMethods,
  ...ethCapabilitiesMethods,
  ...ethBlockMethods,
  ...ethStateMethods,
  ...ethSimulateMethods,
  ...ethSendMethods,
  ...ethSignMethods,
  ...ethLogMethods,
  ...ethFilterMethods,
  ...subscriptionMethods,
  ...txpoolMethods,
  ...debugTraceMethods,
  ...devMethods,
  ...devImpersonateMethods,
  ...devStateMethods,
]

export type { ApiKeyEntry } from './auth/api-keys.ts'
export { findApiKey, hashApiKey } from './auth/api-keys.ts'
export type { AuthOptions, Principal } from './auth/authenticator.ts'
export { AUTH_OFF, Authenticator } from './auth/authenticator.ts'
export type { JwksOptions } from './auth/jwks.ts'
export { JwksVerifier } from './auth/jwks.ts'
export { signJwt, verifyJwt } from './auth/jwt.ts'
export type { Role } from './auth/roles.ts'
export { METHOD_ROLES, ROLES, requiredRole, roleAllows } from './auth/roles.ts'
export type { AccountSigner, DevControls, RpcContext, RpcLimits } from './context.ts'
export { DEFAULT_RPC_LIMITS } from './context.ts'
export type { JsonRpcResponse } from './dispatcher.ts'
export { RpcDispatcher } from './dispatcher.ts'
export { RpcErrorCode, toJsonRpcError } from './errors.ts'
export { decodeRevertReason } from './exec.ts'
export { ConnectionCap } from './http/connection-cap.ts'
export type { LagSource } from './http/event-loop-lag.ts'
export { EventLoopLag } from './http/event-loop-lag.ts'
export { hostAllowed } from './http/host-check.ts'
export { originAllowed, wsOriginAllowed } from './http/origins.ts'
export type { TlsFiles } from './http/tls.ts'
export { MemoryRateLimitStore } from './limits/memory-store.ts'
export type { RateLimitOptions } from './limits/rate-limiter.ts'
export { RATE_LIMIT_OFF, RateLimiter } from './limits/rate-limiter.ts'
export type { RedisRateLimitStoreOptions } from './limits/redis-store.ts'
export { RedisRateLimitStore } from './limits/redis-store.ts'
export type { LimitDecision, RateLimitStore } from './limits/store.ts'
export { methodWeight } from './limits/weights.ts'
export type { CallInfo, MethodDef } from './method.ts'
export { method } from './method.ts'
export type { RpcMetrics } from './metrics.ts'
export { createRpcMetrics } from './metrics.ts'
export type { RpcSecurity, RpcServerOptions } from './server.ts'
export { DEFAULT_RPC_SERVER_OPTIONS, RpcServer, WS_CLOSE_TRY_AGAIN_LATER } from './server.ts'
