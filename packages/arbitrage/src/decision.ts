// What the engine decides for each opportunity (Decision), what one step returns, and the trades
// it has launched and not yet settled.
import type { Hex } from 'viem'
import type { Execution, Simulation, Submission } from './execution/executor.ts'
import type { BlockUpdate } from './pools/tracker.ts'
import type { Opportunity } from './strategy/search.ts'

/** The fees one search priced its trades at. */
export interface GasQuote {
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

export type Decision =
  | {
      kind: 'executed'
      opportunity: Opportunity
      simulation: Simulation & { ok: true }
      execution: Execution
      /** Reverted because the pools moved first (the contract's profit or hop check): not a fault. */
      lostRace?: boolean
    }
  | {
      kind: 'simulation-failed'
      opportunity: Opportunity
      simulation: Simulation & { ok: false }
      /** The path reverted: the cycle was quarantined (else the failure fed the breaker). */
      quarantined: boolean
    }
  | { kind: 'below-min-profit'; opportunity: Opportunity; netAfterGas: bigint }
  | {
      kind: 'skipped'
      opportunity: Opportunity
      why: 'killed' | 'breaker-open' | 'gas-price-cap' | 'risk' | 'stale'
      detail?: string
    }
  | { kind: 'send-failed'; opportunity: Opportunity; error: string }

export interface StepResult {
  updates: BlockUpdate[]
  found: Opportunity[]
  decisions: Decision[]
}

/** A trade past its checks and simulation, about to be (or just) sent. */
export interface Launched {
  o: Opportunity
  sim: Simulation & { ok: true }
  submission: Submission
  nonce: number | undefined
}

/** A trade of ours sent and not settled: what a later trade through its pools is simulated after. */
export interface InFlight {
  o: Opportunity
  hash: Hex
  data: Hex
}
