/** Error codes of the p2p domain. Stable: never reuse a retired code. */
export const P2pErrorCode = {
  /** The p2p configuration is invalid (a bad multiaddr, port…). */
  CONFIG_INVALID: 'P2P_CONFIG_INVALID',
  /** The identity key in the datadir cannot be read or written. */
  IDENTITY: 'P2P_IDENTITY',
  /** A peer's message could not be decoded (RLP, snappy, a size cap). */
  DECODE: 'P2P_DECODE',
  /** A message or response exceeds its size cap. */
  TOO_LARGE: 'P2P_TOO_LARGE',
  /** A peer answered a request with an error code. */
  REMOTE_ERROR: 'P2P_REMOTE_ERROR',
  /** A peer refused a request: over its quota. */
  RATE_LIMITED: 'P2P_RATE_LIMITED',
  /** A peer belongs to another chain (genesis, chain id or fork id differ). */
  WRONG_CHAIN: 'P2P_WRONG_CHAIN',
  /** A request to a peer failed (timeout, reset, no connection). */
  REQUEST_FAILED: 'P2P_REQUEST_FAILED',
} as const
export type P2pErrorCode = (typeof P2pErrorCode)[keyof typeof P2pErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    p2p: P2pErrorCode
  }
}
