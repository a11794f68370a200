/** Error codes of the gateway (`cairn gateway`). Stable: never reuse a retired code. */
export const GatewayErrorCode = {
  /** The gateway's shard list is not usable (gaps in the ids, two shards with one chain id, a shard that never answered). */
  INVALID_SHARDS: 'GATEWAY_INVALID_SHARDS',
  /** A shard did not answer a forwarded request in time (transient: try again). */
  SHARD_UNAVAILABLE: 'GATEWAY_SHARD_UNAVAILABLE',
} as const
export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    gateway: GatewayErrorCode
  }
}
