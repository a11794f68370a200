/**
 * The engine's stop before a scheduled upgrade this build does not know (Cosmos's x/upgrade halts in
 * `BeginBlock` of the plan's height, on every node). Governance's plan is in the state after the
 * block before its height, H − 1: after each block the engine commits or imports it asks staking
 * ({@link StakingHooks.upgradeBlocking}) whether the next height is blocked; from then on the
 * engine builds, validates, votes on and commits nothing of height H or above, and after one block
 * time (the wait after a commit, so the last precommits of H − 1 still reach the slower nodes) the
 * node stops (`StakingHooks.halt`: the log line, `onHalt`, which writes `upgrade-info.json`).
 *
 * Every node reaches the same decision at the same height without receiving block H: before this,
 * only a node that built a block at H refused it and stopped; with more than a third of the power
 * stopped, the others hung at H − 1 with neither the log line nor the file. A node restarted with a
 * release that knows the upgrade (or with `--unsafe-skip-upgrades NAME`) is not blocked: it goes on
 * from H − 1 and runs the upgrade inside block H (`endBlock`).
 */
import type { EngineChain } from '@cairn/chain'
import { bytesToHex, type Logger } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import type { StakingHooks } from '../staking/hooks.ts'
import type { BftScheduler } from './round-clock.ts'

export interface UpgradeHaltModules {
  logger: Logger
  staking: StakingHooks
  scheduler: BftScheduler
  chain: () => EngineChain
  /** The wait after a commit (ms): how long the node goes on gossiping before it stops. */
  waitMs: () => number
}

export class UpgradeHalt {
  readonly #m: UpgradeHaltModules
  /** The first height this node must not touch, once a block told it. */
  #blocked: number | undefined
  /** The last block asked about (a commit is also a new head: asked once). */
  #asked = ''

  constructor(modules: UpgradeHaltModules) {
    this.#m = modules
  }

  /** The first height blocked by an unknown upgrade (undefined: none). */
  get blockedFrom(): number | undefined {
    return this.#blocked
  }

  /** Whether the engine must leave `height` alone (an unknown upgrade at or below it). */
  blocks(height: number): boolean {
    return this.#blocked !== undefined && height >= this.#blocked
  }

  /**
   * After block `header` (committed, imported, or the last final one at start): when the state
   * after it schedules an upgrade this build does not know at the next height, blocks that height
   * and stops the node one block time later. A state the node does not hold is skipped (an older
   * block: its successor is asked too).
   */
  async after(header: BlockHeader): Promise<void> {
    if (this.#blocked !== undefined) return
    const chain = this.#m.chain()
    const key = bytesToHex(header.hash())
    if (key === this.#asked || !chain.hasState(header.stateRoot)) return
    this.#asked = key
    const due = await this.#m.staking.upgradeBlocking({ vm: await chain.vmAt(header), header })
    if (due === null || this.#blocked !== undefined) return
    this.#blocked = Number(due.plan.height)
    const waitMs = this.#m.waitMs()
    this.#m.logger.warn(
      { upgrade: due.plan.name, height: this.#blocked, stopInMs: waitMs },
      'a scheduled upgrade this build does not know is due at the next height: no block of it is built, voted on or committed here',
    )
    this.#m.scheduler.setTimeout(() => this.#m.staking.halt(due.error, due.plan), waitMs)
  }
}
