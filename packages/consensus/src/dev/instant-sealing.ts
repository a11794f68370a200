// Automine's turns: a block sealed as soon as transactions are ready, with every ready one, and,
// with `automineBatch`, paced under load into bigger blocks; empty blocks when only the base fee
// keeps pending transactions out. The dev engine owns the seal itself (dev-engine.ts).
import type { BuildResult, EngineChain } from '@cairn/chain'
import type { TxPool } from '@cairn/txpool'
import type { Logger } from '@cairn/utils'
import type { NextBlock } from './next-block.ts'

/** Intrinsic gas of the cheapest transaction: a block with less room left is full. */
const MIN_TX_GAS = 21_000n

/**
 * How far below the next base fee a pending transaction's fee cap may be for instant sealing to
 * bring the base fee down to it with empty blocks: this many, each an eighth lower (a factor of
 * ~2.9). A flood priced out by its own full blocks is within it (loadgen's caps are 4× the base
 * fee it started at: 12 full blocks in a row pass them).
 */
const PRICED_OUT_STEPS = 8

/**
 * A paced seal (see `schedule`) starts at once after this long without an arrival: meant to be
 * longer than a sender's turnaround between two batches (reading one answer, sending the next), so
 * a flood's blocks keep their size (100,000 transfers from `loadgen.mjs`: 33–41 blocks against
 * 32–33 with the whole pause) and the block after its last batch does not wait.
 */
export const QUIET_MS = 5

export interface InstantSealingOptions {
  /** Most transactions-carrying blocks sealed back to back before yielding to I/O (default 8). */
  maxBlocksPerTurn?: number
  /** How long without an arrival ends the pause between blocks under load (ms; {@link QUIET_MS}). */
  quietMs?: number
  /** Pace sealing under load into bigger blocks (see {@link InstantSealing.schedule}). */
  automineBatch?: boolean
}

export interface InstantSealingModules {
  /** The engine's chain, pool and logger (throwing when it is not attached). */
  attached(): { chain: EngineChain; pool: TxPool; logger: Logger }
  /** The next block's fields (a base fee set for it). */
  next: NextBlock
  /** Whether the engine runs. */
  running(): boolean
  /** Whether a reorg is swapping branches (the pool's re-injections must not start a seal). */
  reorging(): boolean
  /** Seals one block now with whatever is pending. */
  seal(): Promise<BuildResult>
  /** A seal failed. */
  sealFailed(err: unknown): void
}

/** Automine's turns (see the file's header). */
export class InstantSealing {
  #scheduled = false
  /** The turn in progress (see {@link drain}). */
  #draining: Promise<void> = Promise.resolve()
  /** A turn is running; {@link schedule} then only asks it to look again when it ends. */
  #drainRunning = false
  #drainAgain = false
  /** The last block with transactions sealed: when it ended (ms), its duration, whether full. */
  #lastSeal = { end: 0, ms: 0, full: false }
  /** When {@link pricedOut} last said so (ms): at most once a minute, not once per empty block. */
  #pricedOutSaidAt = Number.NEGATIVE_INFINITY
  /** Transactions added to the pool: a paced seal waits only while this moves. */
  #arrivals = 0

  constructor(
    private readonly opts: InstantSealingOptions,
    private readonly modules: InstantSealingModules,
  ) {}

  /** A transaction was added to the pool. */
  arrived(): void {
    this.#arrivals++
    this.schedule()
  }

  /** Whether a turn waits to run. */
  get scheduled(): boolean {
    return this.#scheduled
  }

  /** The turn in progress (resolved when none). */
  get draining(): Promise<void> {
    return this.#draining
  }

  /**
   * Seals soon. Under load, after a block that was not full, admission gets as long as that block
   * took before the next one starts: transactions arriving meanwhile go into one bigger block
   * (fewer per-block costs: system calls, the trie's upper nodes, the head update) instead of
   * many small ones, and sealing takes at most about half of the thread. A quiet node seals at once.
   */
  schedule(): void {
    if (this.#scheduled || !this.modules.running() || this.modules.reorging()) return
    // One turn at a time: a second one beside it sees the transactions the first is sealing as
    // still pending and seals after it, finding them gone: an empty block.
    if (this.#drainRunning) {
      this.#drainAgain = true
      return
    }
    this.#scheduled = true
    const run = () => {
      this.#scheduled = false
      this.#draining = this.drain()
    }
    const wait = this.#lastSeal.full ? 0 : this.#lastSeal.end + this.#lastSeal.ms - performance.now()
    if (wait > 1) this.pace(run, Math.min(wait, 1000))
    else setImmediate(run)
  }

  /**
   * Runs `run` after `wait` ms, or as soon as arrivals stop: no transaction added to the pool or
   * being admitted for `quietMs` ({@link QUIET_MS}). The pause is there to give admission the
   * thread; with nothing arriving it only kept a burst's last transactions waiting (up to the last
   * seal's length: 0.36–0.42 s at the end of a 20,000-transfer burst, ~0.4 s after 2,000).
   */
  private pace(run: () => void, wait: number): void {
    const quiet = this.opts.quietMs ?? QUIET_MS
    const end = performance.now() + wait
    let seen = this.#arrivals
    const check = () => {
      const left = end - performance.now()
      if (left <= 1 || (this.#arrivals === seen && this.modules.attached().pool.admission.inFlight === 0)) return run()
      seen = this.#arrivals
      setTimeout(check, Math.min(quiet, left))
    }
    setTimeout(check, Math.min(quiet, wait))
  }

  /** Seals blocks while executable transactions remain. */
  private async drain(): Promise<void> {
    const { chain, pool } = this.modules.attached()
    const max = this.opts.maxBlocksPerTurn ?? 8
    this.#drainRunning = true
    this.#drainAgain = false
    try {
      for (let i = 0; i < max && this.modules.running(); i++) {
        const baseFee = this.modules.next.baseFee ?? chain.head.header.calcNextBaseFee()
        if (!pool.hasExecutable(baseFee)) {
          if (this.pricedOut(baseFee)) {
            await this.modules.seal()
            this.#drainAgain = true // at the lower base fee (a seal that failed does not loop)
          }
          return
        }
        // Back to back only while blocks fill up; else paced (see schedule).
        if (i > 0 && !this.#lastSeal.full) break
        const started = performance.now()
        const paced = this.opts.automineBatch === true
        const { block } = await this.modules.seal()
        if (block.transactions.length === 0) return
        const end = performance.now()
        const h = block.header
        // Unpaced (Anvil's automine): the next arrival seals at once, as if the block were full.
        this.#lastSeal = { end, ms: end - started, full: !paced || h.gasUsed + MIN_TX_GAS > h.gasLimit }
      }
      if (this.modules.running() && pool.size > 0) this.#drainAgain = true
    } catch (err) {
      this.modules.sealFailed(err)
    } finally {
      this.#drainRunning = false
      // Transactions that arrived during the turn, or left after it: the next turn (paced).
      if (this.#drainAgain) {
        this.#drainAgain = false
        this.schedule()
      }
    }
  }

  /**
   * Whether pending transactions wait only for the base fee to fall (a flood of full blocks raised
   * it past their fee caps, by at most {@link PRICED_OUT_STEPS} blocks' worth). Nothing seals
   * on arrival then, and without a block the base fee never falls: the chain would stall with its
   * pool full. An empty block lowers it by an eighth, as every block of an interval-sealing chain
   * (Anvil's `--block-time`, geth's `--dev.period`) would; the drain then looks again. Not when
   * the next base fee is fixed (anvil_setNextBlockBaseFeePerGas). Caps further below wait for a
   * block something else brings. Logged at most once a minute (a flood of 100,000 transfers from
   * loadgen.mjs had 44 of its 121 blocks empty: full and empty blocks alternate once caps bind).
   */
  private pricedOut(baseFee: bigint): boolean {
    if (this.modules.next.baseFee !== undefined) return false
    let reachable = baseFee
    for (let i = 0; i < PRICED_OUT_STEPS; i++) reachable -= reachable / 8n
    const { pool, logger } = this.modules.attached()
    if (!pool.hasExecutable(reachable)) return false
    if (performance.now() - this.#pricedOutSaidAt >= 60_000) {
      this.#pricedOutSaidAt = performance.now()
      logger.info(
        { baseFee: baseFee.toString() },
        'pending transactions priced out by the base fee: sealing empty blocks to lower it',
      )
    }
    return true
  }
}
