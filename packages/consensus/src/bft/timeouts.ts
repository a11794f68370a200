/**
 * Round timeouts. Each grows linearly with the round (base + delta × round), so once the network is
 * synchronous again a round eventually lasts long enough for every correct validator's messages to
 * arrive (the paper's liveness assumption), whatever the unknown bound on delays is.
 */

export interface TimeoutConfig {
  /** How long to wait for the proposal of round 0 (ms). CometBFT: 3000. */
  proposeMs: number
  /** Added per round to the propose timeout. CometBFT: 500. */
  proposeDeltaMs: number
  /** After more than 2/3 prevotes for anything, how long to wait for a majority on one value. CometBFT: 1000. */
  prevoteMs: number
  prevoteDeltaMs: number
  /** After more than 2/3 precommits for anything, how long to wait before the next round. CometBFT: 1000. */
  precommitMs: number
  precommitDeltaMs: number
  /**
   * After a commit, how long to wait before round 0 of the next height (gathers late precommits;
   * the node sets it from the block time). 0: start at once.
   */
  commitMs: number
}

export const DEFAULT_TIMEOUTS: TimeoutConfig = {
  proposeMs: 3000,
  proposeDeltaMs: 500,
  prevoteMs: 1000,
  prevoteDeltaMs: 500,
  precommitMs: 1000,
  precommitDeltaMs: 500,
  commitMs: 0,
}

/** Which wait a timeout ends. */
export type TimeoutStep = 'propose' | 'prevote' | 'precommit' | 'commit'

/** A scheduled timeout; the state machine ignores it unless it still concerns its (height, round, step). */
export interface Timeout {
  step: TimeoutStep
  height: number
  round: number
}

/** The duration of `step`'s timeout in `round`. */
export function timeoutDuration(config: TimeoutConfig, step: TimeoutStep, round: number): number {
  switch (step) {
    case 'propose':
      return config.proposeMs + config.proposeDeltaMs * round
    case 'prevote':
      return config.prevoteMs + config.prevoteDeltaMs * round
    case 'precommit':
      return config.precommitMs + config.precommitDeltaMs * round
    case 'commit':
      return config.commitMs
  }
}
