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
} as const
export type ArbErrorCode = (typeof ArbErrorCode)[keyof typeof ArbErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    arbitrage: ArbErrorCode
  }
  interface CairnErrorMetas {
    ARB_RPC: { method: string }
  }
}
