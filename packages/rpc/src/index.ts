export { ALL_METHODS } from './all-methods.ts'

export type { AuthOptions, JwksOptions, Principal } from './auth/authenticator.ts'
export { AUTH_OFF, Authenticator, JWT_IAT_LEEWAY_SECONDS } from './auth/authenticator.ts'
export type { Role } from './auth/roles.ts'
export { ROLES, RPC_ROLES, roleAllows } from './auth/roles.ts'
export { type ParsedBody, parseBody, UNPARSEABLE } from './body.ts'
export type { AccountSigner, DevControls, RpcConsensus, RpcContext, RpcDag, RpcLimits, RpcMining } from './context.ts'
export { DEFAULT_RPC_LIMITS } from './context.ts'
export type { Answer, JsonRpcResponse } from './dispatcher.ts'
export { RpcDispatcher } from './dispatcher.ts'
export type { DumpedState } from './dump-state.ts'
export { decodeDump, dumpedHead, dumpState, loadEdit } from './dump-state.ts'
export { RpcErrorCode, toJsonRpcError } from './errors.ts'
export { decodeRevertReason } from './exec.ts'
export { type IssueLike, issueMessage } from './issue-message.ts'
export type { CallInfo, MethodDef } from './method.ts'
export { method } from './method.ts'
export type { MethodTable } from './method-table.ts'
export {
  deriveMethodTable,
  methodTable,
  methodWeight,
  readThreadMethods,
  readThreadWorthForwarding,
  requiredRole,
  runsWithoutContext,
} from './method-table.ts'
export type { RpcMetrics } from './metrics.ts'
export { createRpcMetrics } from './metrics.ts'
export type { RpcNamespace } from './namespaces.ts'
export { DEFAULT_RPC_NAMESPACES, isRpcNamespace, namespaceOf, RPC_NAMESPACES } from './namespaces.ts'
export type { NodeInfo, PeerInfo, RpcNetwork, SyncProgress } from './network.ts'
export { NO_NETWORK } from './network.ts'
export { isPromise } from './promise.ts'
export type { ReadThreads } from './read-threads.ts'
export { answerableOnThread, servedOnReadThread } from './read-threads.ts'
export type { BodyDispatcher, HtmlPage, MetricsPage, RpcSecurity, RpcServerOptions } from './server.ts'
export { DEFAULT_RPC_SERVER_OPTIONS, dispatchInContext, RpcServer } from './server.ts'
export type { SubscriptionSink } from './subscriptions.ts'
