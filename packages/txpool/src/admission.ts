import type { Logger } from '@cairn/utils'

/**
 * What produces the blocks that drain the pool, as admission sees it (the dev engine; a network
 * engine installs none: its pool refuses a flood with "txpool is full", as geth's).
 */
export interface Drainer {
  /** Whether blocks are being produced that will drain the pool (automine or an interval). */
  draining(): boolean
  /** Throws the error a local submission meets now (the producer cannot seal: disk full, end of time). */
  check?(): void
}

export interface AdmissionOptions {
  /** Executable slots past which local senders wait for blocks; undefined: never. */
  holdAt: number | undefined
  /** Longest a sender waits before its transaction meets the pool's own limits (ms). */
  maxWaitMs: number
}

export interface AdmissionModules {
  /** The pool's executable slots now. */
  pending(): number
  logger: Logger
  /** Clock in ms (performance.now by default). */
  now?: () => number
}

/**
 * Backpressure for local submissions (`TxPool.submit`: eth_sendRawTransaction and
 * eth_sendTransaction). While a {@link Drainer} produces blocks and the pool holds `holdAt`
 * executable slots or more (with those being added), a sender waits for the next block — as
 * Anvil's and Hardhat's automine slow a flood down — instead of being refused with "txpool is
 * full" and left with a nonce gap that strands every later transaction of that sender. Waiting
 * senders go on in arrival order, each at the latest after `maxWaitMs` (its transaction then meets
 * the pool's own limits). Without a drainer (a network node, or automine off and no interval)
 * nothing waits. The pool wakes the waiters after each new head ({@link release}).
 */
export class Admission {
  #drainer: Drainer | null = null
  #waiters: (() => void)[] = []
  #holding = false
  #inFlight = 0

  constructor(
    private readonly opts: AdmissionOptions,
    private readonly modules: AdmissionModules,
  ) {}

  /** Who drains the pool (null: nobody; senders never wait). */
  setDrainer(drainer: Drainer | null): void {
    this.#drainer = drainer
    if (drainer === null) this.release()
  }

  /** Local submissions let through and not yet settled (in the pool or refused). */
  get inFlight(): number {
    return this.#inFlight
  }

  /** Runs `add` when the pool has room for it (see the class doc). */
  async run<T>(add: () => Promise<T>): Promise<T> {
    const drainer = this.#drainer
    drainer?.check?.()
    const limit = this.opts.holdAt
    if (limit !== undefined && drainer?.draining() === true) {
      const now = this.modules.now ?? (() => performance.now())
      const deadline = now() + this.opts.maxWaitMs
      while (this.#drainer?.draining() === true && this.modules.pending() + this.#inFlight >= limit) {
        const left = deadline - now()
        if (left <= 0) break
        if (!this.#holding) {
          this.#holding = true
          this.modules.logger.info(
            { pending: this.modules.pending(), limit },
            'pool filling faster than blocks seal: senders wait for blocks',
          )
        }
        await new Promise<void>((resolve) => {
          this.#waiters.push(resolve)
          setTimeout(resolve, left).unref?.()
        })
      }
    }
    this.#inFlight++
    try {
      return await add()
    } finally {
      this.#inFlight--
    }
  }

  /** Wakes the waiting senders (a new head; the drainer stopped). */
  release(): void {
    if (this.#holding && this.modules.pending() < (this.opts.holdAt ?? 0)) {
      this.#holding = false
      this.modules.logger.info({ pending: this.modules.pending() }, 'pool drained: senders no longer wait')
    }
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }
}
