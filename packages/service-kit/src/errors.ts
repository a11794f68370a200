/**
 * Error codes of the service kit: health checks, shutdown, the metrics listener, outbound calls, the
 * edge (TLS files), authentication and the rate-limit store. Each service maps them to its own
 * transport (HTTP status, JSON-RPC code) in its one mapping place. Stable: never reuse a retired code.
 */
export const ServiceErrorCode = {
  CHECK_TIMEOUT: 'SERVICE_CHECK_TIMEOUT',
  SHUTDOWN_INCOMPLETE: 'SERVICE_SHUTDOWN_INCOMPLETE',
  METRICS_LISTEN_FAILED: 'METRICS_LISTEN_FAILED',
  OUTBOUND_CIRCUIT_OPEN: 'OUTBOUND_CIRCUIT_OPEN',
  OUTBOUND_BULKHEAD_FULL: 'OUTBOUND_BULKHEAD_FULL',
  OUTBOUND_TIMEOUT: 'OUTBOUND_TIMEOUT',
  OUTBOUND_FAILED: 'OUTBOUND_FAILED',
  /** A TLS certificate or key file is missing, unreadable or not PEM. */
  TLS_UNREADABLE: 'SERVICE_TLS_UNREADABLE',
  /** Credentials were sent but are refused (unknown API key, bad or expired JWT); the message says why. */
  AUTH_INVALID: 'SERVICE_AUTH_INVALID',
  /** The HS256 secret is too short, or the secret file cannot be read. */
  AUTH_SECRET_INVALID: 'SERVICE_AUTH_SECRET_INVALID',
  /** The Redis client is not connected (a call through it fails at once). */
  REDIS_DOWN: 'SERVICE_REDIS_DOWN',
  /** The database (PGlite or PostgreSQL) failed a query or cannot be reached. */
  STORAGE_FAILED: 'SERVICE_STORAGE_FAILED',
  /** A service's configuration file (API keys, …) cannot be read or does not match its schema. */
  CONFIG_INVALID: 'SERVICE_CONFIG_INVALID',
  /** A secret (a file, an environment variable, an encrypted bundle, a manager) cannot be read or is empty. */
  SECRET_UNREADABLE: 'SERVICE_SECRET_UNREADABLE',
  /** A secret file that users other than its owner may read or write (as the keystores refuse). */
  SECRET_FILE_PERMISSIONS: 'SERVICE_SECRET_FILE_PERMISSIONS',
} as const
export type ServiceErrorCode = (typeof ServiceErrorCode)[keyof typeof ServiceErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    serviceKit: ServiceErrorCode
  }
}
