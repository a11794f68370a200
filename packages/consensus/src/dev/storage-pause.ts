// The dev engine's pause while blocks cannot be written (a full disk: DB_WRITE_FAILED): logged
// once, sealing retried every STORAGE_RETRY_MS (the store reopens itself on the next write), new
// local transactions refused meanwhile; resumed by the first block written.
import { CairnError, isCairnError, type Logger } from '@cairn/utils'

/** How often sealing is retried while block writes fail. */
export const STORAGE_RETRY_MS = 2000

export interface StoragePauseModules {
  logger(): Logger
  /** Whether the engine runs (no retry once it stopped). */
  running(): boolean
  /** Seals one block now (the retry). */
  seal(): Promise<unknown>
  /** Writes work again: seal what waits. */
  resumed(): void
}

/** The pause (see the file's header). */
export class StoragePause {
  #failing = false
  #retryTimer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly modules: StoragePauseModules) {}

  /** Whether block writes are failing now. */
  get failing(): boolean {
    return this.#failing
  }

  /**
   * A seal that failed. A block write that failed pauses sealing and schedules a retry; anything
   * else is logged.
   */
  sealFailed(err: unknown): void {
    const logger = this.modules.logger()
    if (!isCairnError(err, 'DB_WRITE_FAILED')) {
      logger.error({ err }, 'sealing failed')
      return
    }
    if (!this.#failing) {
      this.#failing = true
      logger.error(
        { err: err.message, retryMs: STORAGE_RETRY_MS },
        'cannot write blocks (disk full?): sealing paused and new transactions refused until a write succeeds',
      )
    }
    if (this.#retryTimer || !this.modules.running()) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      if (!this.modules.running()) return
      void this.modules.seal().catch((e) => this.sealFailed(e))
    }, STORAGE_RETRY_MS)
    this.#retryTimer.unref?.()
  }

  /** A block was written: if writes had been failing, say they work again. */
  sealSucceeded(): void {
    if (!this.#failing) return
    this.#failing = false
    this.modules.logger().info('blocks are written again: sealing resumed, transactions accepted')
    this.modules.resumed()
  }

  /** What a local submission meets while writes fail: a transient refusal. */
  check(): void {
    if (this.#failing) {
      throw new CairnError(
        'CONSENSUS_STORAGE_UNWRITABLE',
        'transaction not accepted: the node cannot write blocks now (disk full?)',
        { fault: 'transient', hint: 'retry once the operator has freed disk space; the node resumes by itself' },
      )
    }
  }

  stop(): void {
    clearTimeout(this.#retryTimer)
  }
}
