export type { ApiKeyEntry } from './auth/api-keys.ts'
export { findApiKey, hashApiKey } from './auth/api-keys.ts'
export { type ApiKeyFileEntry, parseApiKeys, readApiKeysFile } from './auth/api-keys-file.ts'
export type { AuthenticatorOptions, Credential, CredentialHeaders, Hs256Auth, JwksAuth } from './auth/authenticator.ts'
export { Authenticator } from './auth/authenticator.ts'
export type { Hs256Policy, JwtPayload } from './auth/hs256.ts'
export {
  checkHmacSecret,
  jwtHeader,
  MIN_HMAC_SECRET_BYTES,
  signHs256,
  verifyHs256,
} from './auth/hs256.ts'
export type { JwksOptions } from './auth/jwks.ts'
export { JWKS_ALGORITHMS, JwksVerifier } from './auth/jwks.ts'
export { type JwksBearerOptions, jwksBearer } from './auth/jwks-bearer.ts'
export { authInvalid } from './auth/refusal.ts'
export type { RoleTable } from './auth/roles.ts'
export { defineRoles, highestRole, isRole, roleAllows } from './auth/roles.ts'
export type { EdgeCheckOptions, EdgeRefusal, EdgeRefusalKind, EdgeRequest, EdgeState } from './edge/checks.ts'
export { checkEdge, shedding } from './edge/checks.ts'
export {
  addressKey,
  CONNECTION_REFUSALS,
  ConnectionCap,
  type ConnectionEvents,
  type ConnectionLimits,
  type ConnectionRefusal,
} from './edge/connection-cap.ts'
export { registerCors } from './edge/cors.ts'
export type { EdgeOptions } from './edge/edge.ts'
export { Edge } from './edge/edge.ts'
export type { LagSource } from './edge/event-loop-lag.ts'
export { EventLoopLag } from './edge/event-loop-lag.ts'
export { type FastifyWebSocketApp, guardFastifyWebSockets, UPGRADE_WAIT_MS } from './edge/fastify-websockets.ts'
export { hostAllowed } from './edge/host-check.ts'
export { createHttpServer, KEEP_ALIVE_MS } from './edge/http-server.ts'
export { type OrderedUpgrades, orderUpgrades } from './edge/ordered-upgrades.ts'
export { originAllowed, wsOriginAllowed } from './edge/origins.ts'
export type { CspDirectives } from './edge/security-headers.ts'
export { API_CSP, securityHeaders } from './edge/security-headers.ts'
export type { TlsFileNames, TlsFiles } from './edge/tls.ts'
export { readTls, reloadTls } from './edge/tls.ts'
export {
  type ClosableWebSocket,
  closeWebSocketsGoingAway,
  WS_CLOSE_GOING_AWAY,
} from './edge/websockets-going-away.ts'
export { ServiceErrorCode } from './errors.ts'
export type { CheckResult, HealthReport } from './health.ts'
export { HealthChecks } from './health.ts'
export { MemoryRateLimitStore } from './limits/memory-store.ts'
export type { RateLimitOptions } from './limits/rate-limiter.ts'
export { RATE_LIMIT_OFF, RateLimiter } from './limits/rate-limiter.ts'
export type { RedisRateLimitStoreOptions } from './limits/redis-store.ts'
export { RedisRateLimitStore } from './limits/redis-store.ts'
export type { LimitDecision, RateLimitStore } from './limits/store.ts'
export type { LogFileOptions, LoggerOptions } from './logger.ts'
export { closeLogs, createLogger, REDACT_PATHS, setLogLevels } from './logger.ts'
export type { MetricsOptions } from './metrics.ts'
export { createMetricsRegistry } from './metrics.ts'
export type { MetricsServerOptions } from './metrics-server.ts'
export { MetricsServer } from './metrics-server.ts'
export type { JetStreamHandle, JetStreamOptions, StreamRetention } from './nats.ts'
export { openJetStream } from './nats.ts'
export type { RedisClientOptions } from './redis.ts'
export { RedisClient, redactUrl } from './redis.ts'
export type { RequestContext } from './request-context.ts'
export { inRequestContext, requestContext, requestFields, requestId } from './request-context.ts'
export type { CircuitStateName, OutboundMetrics, ResilienceOptions, ResilientCall } from './resilience.ts'
export { outboundMetrics, resilientCall } from './resilience.ts'
export {
  type AgeSecretOptions,
  AgeSecretProvider,
  EnvSecretProvider,
  FileSecretProvider,
  parseSecretRef,
  readOwnerOnlyFile,
  type SecretProvider,
  type SecretRef,
  Secrets,
  type SecretsModules,
  type SecretsOptions,
  type SecretWatch,
  secretFileModeProblem,
} from './secrets/index.ts'
export type { ShutdownStep } from './shutdown.ts'
export { Shutdown } from './shutdown.ts'
export type { StopOnSignalsModules } from './stop-on-signals.ts'
export { StopOnSignals } from './stop-on-signals.ts'
export type {
  RunningSpan,
  SpanAttributes,
  SpanHandle,
  SpanKindName,
  SpanOptions,
  Tracer,
  Tracing,
  TracingOptions,
} from './tracing.ts'
export { activeTraceContext, activeTraceFields, createTracing, noopTracer } from './tracing.ts'
export type { HeaderSource, TraceCarrier } from './tracing-carrier.ts'
export { carrierFrom, fetchWithTraceContext, setTraceHeaders, traceIdOf } from './tracing-carrier.ts'
export { tracingFlags } from './tracing-flags.ts'
export { WakeableSleep } from './wakeable-sleep.ts'
