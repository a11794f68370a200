/**
 * The BFT engine's clock (CometBFT's timeout ticker, with the consensus metrics that read it): the
 * injected {@link BftScheduler}, the machine's timeouts set on it, when this node started deciding
 * the current height and entered the current round (the commit-time and latency histograms, and
 * the block time: heights start `blockTimeMs` apart while the network keeps up), and the machine's
 * position and commits in the metrics.
 */

import { bytesToHex } from '@cairn/utils'
import type { BftConfig } from './bft-config.ts'
import type { BftMetrics } from './bft-metrics.ts'
import type { CommitCertificate } from './certificate.ts'
import type { BftStateMachine } from './state-machine.ts'
import type { Timeout } from './timeouts.ts'
import type { ValidatorSet } from './validator-set.ts'

/** Timers and the time, injected (tests run a manual clock). */
export interface BftScheduler {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(fn: () => void, delayMs: number): void
}

export const realScheduler: BftScheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    setTimeout(fn, ms).unref?.()
  },
}

export interface RoundClockOptions {
  /** Whether to make empty blocks (read when a commit's wait ends). */
  config: Pick<BftConfig, 'emptyBlocks'>
}

export interface RoundClockModules {
  scheduler: BftScheduler
  metrics?: BftMetrics | null
  /** True when the pool holds no pending transaction (without empty blocks, the wait after a commit goes on). */
  poolEmpty: () => boolean
  validatorSetAt: (height: number) => ValidatorSet
  /**
   * How long the proposer of `height`'s round 0 may still wait after its commit for the certificate
   * of `height − 1` to fill (0: it is full, or this node does not propose `height`). See `setTimeout`.
   */
  gatherFor?: (height: number) => number
}

/** How often a proposer waiting for late precommits looks at its certificate again (ms). */
const GATHER_POLL_MS = 10

export class RoundClock {
  readonly #opts: RoundClockOptions
  readonly #m: RoundClockModules
  /** When this node started deciding the current height (ms), for `cairn_bft_commit_seconds`. */
  #heightStartedAt: number | undefined
  #heightStartedFor: number | undefined
  /** When this node entered the current round (ms), by `height/round`, for the latency histograms. */
  #roundStartedAt: number | undefined
  #roundStartedFor = ''
  /** When this node first entered a round of a height (ms), by height: where the block time counts from. */
  #proposingSince: { height: number; at: number } | undefined

  constructor(opts: RoundClockOptions, modules: RoundClockModules) {
    this.#opts = opts
    this.#m = modules
  }

  /** The machine's position in the metrics; the start of a height's and a round's clock. True on a new height. */
  observe(machine: BftStateMachine): boolean {
    let newHeight = false
    if (this.#heightStartedAt === undefined || this.#heightStartedFor !== machine.height) {
      this.#heightStartedFor = machine.height
      this.#heightStartedAt = this.#m.scheduler.now()
      newHeight = true
    }
    // A round starts with its propose step (step 0 is the wait after the last commit).
    const round = `${machine.height}/${machine.round}`
    if (machine.step !== 0 && this.#roundStartedFor !== round) {
      this.#roundStartedFor = round
      this.#roundStartedAt = this.#m.scheduler.now()
      if (this.#proposingSince?.height !== machine.height) {
        this.#proposingSince = { height: machine.height, at: this.#roundStartedAt }
      }
    }
    const metrics = this.#m.metrics
    if (metrics) {
      metrics.height.set(machine.height)
      metrics.round.set(machine.round)
      metrics.step.set(machine.step)
    }
    return newHeight
  }

  /** When this node entered round `round` of `height` (ms), if that is the current round. */
  roundStartedAt(height: number, round: number): number | undefined {
    return this.#roundStartedFor === `${height}/${round}` ? this.#roundStartedAt : undefined
  }

  /** Sets the machine's `timeout` after `ms`: `fire` then, unless `live()` is false by then. */
  setTimeout(timeout: Timeout, ms: number, live: () => boolean, fire: () => void): void {
    const scheduler = this.#m.scheduler
    // The block time is an interval: the wait after a commit is what is left of it since the
    // committed height's first round began (proposing, executing and voting took the rest), so
    // heights start `blockTimeMs` apart while the network keeps up, and at once when it does not.
    const since = this.#proposingSince
    if (timeout.step === 'commit' && since?.height === timeout.height - 1) {
      ms = Math.max(0, ms - (scheduler.now() - since.at))
    }
    // ...but the proposer of the next height waits for the precommits that arrive after the first
    // quorum, up to its gather window, so that its block's certificate of the parent holds them
    // (CometBFT's timeout_commit): a validator slower than the others (a loaded machine) is not
    // counted absent at every height. It stops waiting as soon as the certificate is full.
    const gatherUntil =
      timeout.step === 'commit' && this.#m.gatherFor !== undefined
        ? scheduler.now() + this.#m.gatherFor(timeout.height)
        : 0
    const tick = () => {
      if (!live()) return
      if (scheduler.now() < gatherUntil && (this.#m.gatherFor?.(timeout.height) ?? 0) > 0) {
        scheduler.setTimeout(tick, Math.min(GATHER_POLL_MS, gatherUntil - scheduler.now()))
        return
      }
      // No empty blocks: the wait after a commit lasts until a transaction is pending.
      if (timeout.step === 'commit' && !this.#opts.config.emptyBlocks && this.#m.poolEmpty()) {
        scheduler.setTimeout(tick, 100)
        return
      }
      fire()
    }
    scheduler.setTimeout(tick, ms)
  }

  /**
   * The commit of `height` in the metrics: rounds, the time since the height started, and missed
   * signatures — counted from `parentCertificate`, the certificate of `height − 1` the committed
   * block carries (the proposer's, with the precommits that arrived over the block time: what the
   * chain records and staking's downtime window counts, the same on every node), not from this
   * node's certificate of `height`, which holds only the first quorum of precommits (with four
   * validators one in four is missing from it at nearly every height on a healthy network).
   */
  committed(height: number, certificate: CommitCertificate, parentCertificate: CommitCertificate | null): void {
    const metrics = this.#m.metrics
    if (!metrics) return
    metrics.commits.inc()
    metrics.roundsPerHeight.observe(certificate.round + 1)
    if (this.#heightStartedAt !== undefined && this.#heightStartedFor === height) {
      metrics.commitSeconds.observe((this.#m.scheduler.now() - this.#heightStartedAt) / 1000)
    }
    if (parentCertificate === null || parentCertificate.height < 1) return
    const signed = new Set(parentCertificate.signatures.map((sig) => sig.validatorIndex))
    this.#m.validatorSetAt(parentCertificate.height).validators.forEach((v, i) => {
      if (!signed.has(i)) metrics.missedSignatures.inc({ validator: bytesToHex(v.address) })
    })
  }
}
