import type { RpcSecurity, RpcServerOptions } from '@cairn/rpc'
import { connectionLimit, openFileLimit } from './descriptors.ts'
import { effectiveNamespaces } from './profile.ts'
import { authActive, type NodeConfig } from './schema.ts'

/** The RPC server's hot-reloadable settings from the config (see {@link RpcSecurity}). */
export function rpcSecurity(config: NodeConfig): RpcSecurity {
  const { auth, rateLimit, http } = config
  return {
    auth: {
      enabled: authActive(config),
      apiKeys: auth.apiKeys,
      jwtSecret: auth.jwtSecret ? Uint8Array.from(Buffer.from(auth.jwtSecret.replace(/^0x/, ''), 'hex')) : null,
      jwtRole: auth.jwtRole ?? null,
      jwks: auth.jwksUrl
        ? {
            url: auth.jwksUrl,
            issuer: auth.jwtIssuer,
            audience: auth.jwtAudience,
            roleClaim: auth.jwtRoleClaim,
            roleMap: auth.jwtRoleMap,
          }
        : null,
    },
    rateLimit: {
      enabled: rateLimit.enabled,
      windowMs: rateLimit.windowSeconds * 1000,
      perIp: rateLimit.perIp,
      perKey: rateLimit.perKey,
      onStoreError: rateLimit.onStoreError,
    },
    cors: http.cors,
    vhosts: http.vhosts,
  }
}

/**
 * Every RPC server setting the config decides (the rest are the server's defaults). `nofile`: the
 * process's open-file limit, for `http.maxConnections = auto` (read from /proc unless given).
 */
export function rpcServerSettings(
  config: NodeConfig,
  nofile: number | null = openFileLimit(),
): Pick<
  RpcServerOptions,
  | 'host'
  | 'port'
  | 'tls'
  | 'maxConnectionsPerIp'
  | 'maxConnections'
  | 'firstByteTimeoutMs'
  | 'requestTimeoutMs'
  | 'shedLagMs'
  | 'trustProxy'
  | 'namespaces'
  | 'fastLane'
  | 'wsMaxPayload'
> &
  RpcSecurity {
  const { http } = config
  return {
    host: http.addr,
    port: http.port,
    tls: http.tlsCert && http.tlsKey ? { cert: http.tlsCert, key: http.tlsKey } : null,
    maxConnectionsPerIp: http.maxConnectionsPerIp,
    maxConnections: connectionLimit(http.maxConnections, nofile),
    firstByteTimeoutMs: http.firstByteTimeoutMs,
    requestTimeoutMs: http.requestTimeoutMs,
    shedLagMs: http.shedLagMs,
    trustProxy: http.trustProxy,
    // One request limit on both transports (the dispatcher's bodyLimit is the same number).
    wsMaxPayload: http.maxRequestBytes,
    // The gate skips roles for what the dispatcher does not serve (it answers -32601).
    namespaces: effectiveNamespaces(config),
    // The fast lane is a speed shim: reference mode answers every request through the dispatcher.
    fastLane: !config.reference,
    ...rpcSecurity(config),
  }
}
