import type { MethodDef } from './method.ts'
import { adminMethods } from './methods/admin.ts'
import { cairnConsensusMethods } from './methods/cairn-consensus.ts'
import { debugTraceMethods } from './methods/debug-trace.ts'
import { devMethods } from './methods/dev.ts'
import { devAnvilMethods } from './methods/dev-anvil.ts'
import { devErc20Methods } from './methods/dev-erc20.ts'
import { devImpersonateMethods } from './methods/dev-impersonate.ts'
import { devInfoMethods } from './methods/dev-info.ts'
import { devStateMethods } from './methods/dev-state.ts'
import { ethAccountMethods } from './methods/eth-account.ts'
import { ethBlockMethods } from './methods/eth-blocks.ts'
import { ethCapabilitiesMethods } from './methods/eth-capabilities.ts'
import { ethCompatMethods } from './methods/eth-compat.ts'
import { ethConfigMethods } from './methods/eth-config.ts'
import { ethFilterMethods } from './methods/eth-filters.ts'
import { ethLogMethods } from './methods/eth-logs.ts'
import { ethMiscMethods } from './methods/eth-misc.ts'
import { ethSendMethods } from './methods/eth-send.ts'
import { ethSignMethods } from './methods/eth-sign.ts'
import { ethSimulateMethods } from './methods/eth-simulate.ts'
import { ethStateMethods } from './methods/eth-state.ts'
import { netWeb3Methods } from './methods/net-web3.ts'
import { otsMethods } from './methods/ots.ts'
import { testingMethods } from './methods/testing.ts'
import { traceParityMethods } from './methods/trace-parity.ts'
import { traceReplayMethods } from './methods/trace-replay.ts'
import { txpoolMethods } from './methods/txpool.ts'
import { subscriptionMethods } from './subscriptions.ts'

/** Every method Cairn serves, declared (never discovered by reflection). */
export const ALL_METHODS: MethodDef[] = [
  ...netWeb3Methods,
  ...cairnConsensusMethods,
  ...adminMethods,
  ...ethMiscMethods,
  ...ethConfigMethods,
  ...ethCapabilitiesMethods,
  ...ethBlockMethods,
  ...ethStateMethods,
  ...ethAccountMethods,
  ...ethCompatMethods,
  ...ethSimulateMethods,
  ...ethSendMethods,
  ...ethSignMethods,
  ...ethLogMethods,
  ...ethFilterMethods,
  ...subscriptionMethods,
  ...txpoolMethods,
  ...debugTraceMethods,
  ...traceParityMethods,
  ...traceReplayMethods,
  ...otsMethods,
  ...testingMethods,
  ...devMethods,
  ...devImpersonateMethods,
  ...devStateMethods,
  ...devErc20Methods,
  ...devAnvilMethods,
  ...devInfoMethods,
]

export type { AuthOptions, JwksOptions, Principal } from './auth/authenticator.ts'
export { AUTH_OFF, Authenticator, JWT_IAT_LEEWAY_SECONDS } from './auth/authenticator.ts'
export type { Role } from './auth/roles.ts'
export { METHOD_ROLES, ROLES, RPC_ROLES, requiredRole, roleAllows } from './auth/roles.ts'
export { type ParsedBody, parseBody, UNPARSEABLE } from './body.ts'
export type { AccountSigner, DevControls, RpcConsensus, RpcContext, RpcLimits } from './context.ts'
export { DEFAULT_RPC_LIMITS } from './context.ts'
export type { Answer, JsonRpcResponse } from './dispatcher.ts'
export { RpcDispatcher } from './dispatcher.ts'
export type { DumpedState } from './dump-state.ts'
export { decodeDump, dumpState, loadEdit } from './dump-state.ts'
export { RpcErrorCode, toJsonRpcError } from './errors.ts'
export { decodeRevertReason } from './exec.ts'
export { methodWeight } from './limits/weights.ts'
export type { CallInfo, MethodDef } from './method.ts'
export { method } from './method.ts'
export type { RpcMetrics } from './metrics.ts'
export { createRpcMetrics } from './metrics.ts'
export type { RpcNamespace } from './namespaces.ts'
export { DEFAULT_RPC_NAMESPACES, isRpcNamespace, namespaceOf, RPC_NAMESPACES } from './namespaces.ts'
export type { NodeInfo, PeerInfo, RpcNetwork, SyncProgress } from './network.ts'
export { NO_NETWORK } from './network.ts'
export { isPromise } from './promise.ts'
export type { ReadThreads } from './read-threads.ts'
export {
  answerableOnThread,
  READ_THREAD_METHODS,
  READ_THREAD_WORTH_FORWARDING,
  servedOnReadThread,
} from './read-threads.ts'
export type { BodyDispatcher, MetricsPage, RpcSecurity, RpcServerOptions } from './server.ts'
export { DEFAULT_RPC_SERVER_OPTIONS, dispatchInContext, RpcServer } from './server.ts'
export type { SubscriptionSink } from './subscriptions.ts'
