// The arbitrage domain's error codes (stable strings, never reused; see @cairn/utils errors).
export const ArbErrorCode = {
  /** The chain's JSON-RPC failed or answered something unusable. */
  RPC: 'ARB_RPC',
  /** A reorg went deeper than the undo journal: state was rebuilt from the chain. */
  REORG_TOO_DEEP: 'ARB_REORG_TOO_DEEP',
  /** The simulation of a trade against the pending block reverted or showed too little profit. */
  SIMULATION_FAILED: 'ARB_SIMULATION_FAILED',
  /** A sent trade reverted on chain. */
  TRADE_REVERTED: 'ARB_TRADE_REVERTED',
  /** A configuration value is out of range. */
  CONFIG: 'ARB_CONFIG',
  /** A configuration write named a version that is no longer the stored one. */
  CONFIG_CONFLICT: 'ARB_CONFIG_CONFLICT',
  /** The signing key cannot be read (keystore, password or key file). */
  KEY_UNREADABLE: 'ARB_KEY_UNREADABLE',
  /** A transaction could not be sent or replaced (nonce, fees). */
  SEND_FAILED: 'ARB_SEND_FAILED',
  /** The work queue (NATS JetStream) failed. */
  QUEUE: 'ARB_QUEUE',
  /** No or bad credentials (401). */
  UNAUTHENTICATED: 'ARB_UNAUTHENTICATED',
  /** The role may not do this (403). */
  FORBIDDEN: 'ARB_FORBIDDEN',
  /** An API request is malformed (400). */
  BAD_REQUEST: 'ARB_BAD_REQUEST',
  /** Refused at the edge: host, origin, media type (403/415). */
  EDGE_REFUSED: 'ARB_EDGE_REFUSED',
  /** Too many connections from one address, or the service is shedding load (429/503). */
  OVERLOADED: 'ARB_OVERLOADED',
  /** A caller (principal or IP) spent its API rate limit (429 with Retry-After). */
  RATE_LIMITED: 'ARB_RATE_LIMITED',
  /**
   * A sent trade did not land within its deadline (`stuckTimeoutMs`): it stays in the node's pool
   * holding its nonce, so the engine opens the breaker (later trades would queue behind it).
   */
  TRADE_STUCK: 'ARB_TRADE_STUCK',
  /** A search worker thread failed or exited: its share of a batch is sized on the main thread. */
  SEARCH_WORKER_FAILED: 'ARB_SEARCH_WORKER_FAILED',
} as const
export type ArbErrorCode = (typeof ArbErrorCode)[keyof typeof ArbErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    arbitrage: ArbErrorCode
  }
  interface CairnErrorMetas {
    ARB_RPC: { method: string }
    ARB_TRADE_STUCK: { hash: `0x${string}`; nonce: number | undefined; waitedMs: number }
  }
}
