/**
 * Turns in the order they were asked for: what keeps transactions entering the pool in the order
 * `add` was called, although each one's sender is recovered on a worker thread and those answers
 * come back in any order. A turn begins once its own preparation (`ready`) is done and every
 * earlier turn has begun; its holder calls `pass` when the next one may begin.
 *
 * Why it matters: a sender's nonces sent in order must arrive in order. One that overtook an
 * earlier nonce went in nonce-gapped (queued), uncounted by the dev engine's backpressure, and
 * joined the executable run when the earlier one arrived: the run could then outgrow the pool's
 * executable slots, and a later transaction was refused "txpool is full" — a gap that stranded
 * every later nonce of its sender (test/rpc/dev-backpressure.int.test.ts timed out in CI; a loop of
 * its flood stuck within 3–9 runs).
 */
export class ArrivalOrder {
  /** Resolved when the last turn asked for has begun. */
  private last: Promise<void> = Promise.resolve()
  /** Turns asked for and not yet passed. */
  private waiting = 0

  /**
   * The next turn: `wait` settles once `ready` has and every earlier turn has begun (it rejects
   * with `ready`'s error). The holder calls `pass` once `wait` has settled, whatever the outcome
   * (a turn never passed holds back every later one; passing again does nothing).
   */
  next(ready?: Promise<unknown>): { wait: Promise<void>; pass: () => void } {
    const before = this.last
    let done = (): void => {}
    this.last = new Promise<void>((resolve) => {
      done = resolve
    })
    this.waiting++
    let passed = false
    // Settles only once the earlier turns have begun, even when `ready` fails first.
    const wait = ready
      ? Promise.allSettled([before, ready]).then(([, r]) => {
          if (r.status === 'rejected') throw r.reason
        })
      : before
    return {
      wait,
      pass: () => {
        if (passed) return
        passed = true
        this.waiting--
        done()
      },
    }
  }

  /** Turns asked for whose holders have not passed yet. */
  get size(): number {
    return this.waiting
  }
}
