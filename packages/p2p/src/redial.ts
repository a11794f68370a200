import type { Logger } from '@cairn/utils'

export interface RedialOptions {
  /** Delay before the first retry after a failure (ms); it doubles with each failure in a row. */
  minMs: number
  /** Longest delay between two dials of one peer (ms). */
  maxMs: number
}

export interface RedialModules {
  /** Dials the peer's address; resolves once connected, rejects when the dial fails. */
  dial: (peer: string, address: string) => Promise<void>
  /** Whether the peer has a connection now. */
  connected: (peer: string) => boolean
  logger: Logger
  /** Timers (injected in tests). */
  setTimeout?: (fn: () => void, ms: number) => unknown
  clearTimeout?: (timer: unknown) => void
}

interface Kept {
  address: string
  /** Failures since the peer last passed the status exchange. */
  failures: number
  /** Whether the peer passed the status exchange on its current connection. */
  established: boolean
  /** Failures in a row after which the peer is forgotten. */
  giveUpAfter: number
  timer: unknown
}

/**
 * The peers this node keeps connected (bootnodes, the peers it knew before a restart, and
 * `admin_addPeer`'s): each is dialled at once, and again after every loss, with a delay that
 * doubles with each failure in a row (`minMs`, 2 × `minMs`, … up to `maxMs`). A failure is a dial
 * that fails (the peer is down, or refuses: a full connection limit, a ban) and a connection that
 * ends before the peer passed the status exchange (a peer that hangs up at once); a connection
 * on which the status exchange succeeded resets the count. A peer kept with `giveUpAfter` (one
 * only remembered from before a restart) is forgotten after that many failures in a row; the
 * others (bootnodes, added by the operator) are tried for as long as the node runs. libp2p's own keep-alive (`KEEP_ALIVE`
 * tag) is not used for this: it dials again at once whenever a connection ends, so a peer that
 * accepts the connection and then hangs up (a peer that banned this node) was dialled in a tight
 * loop, which spent the peer's per-host inbound allowance (libp2p's default: 5 connections a
 * second) and made it refuse other nodes at the same address.
 */
export class Redialer {
  private readonly kept = new Map<string, Kept>()
  private stopped = false
  private readonly setTimer: (fn: () => void, ms: number) => unknown
  private readonly clearTimer: (timer: unknown) => void

  constructor(
    private readonly opts: RedialOptions,
    private readonly modules: RedialModules,
  ) {
    this.setTimer =
      modules.setTimeout ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms)
        t.unref()
        return t
      })
    this.clearTimer = modules.clearTimeout ?? ((t) => clearTimeout(t as NodeJS.Timeout))
  }

  /**
   * Keeps `peer` (at `address`) connected from now on, and dials it now unless connected: true
   * once connected, false when this dial failed (the next one is scheduled).
   */
  keep(peer: string, address: string, o: { giveUpAfter?: number } = {}): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false)
    const giveUpAfter = o.giveUpAfter ?? Number.POSITIVE_INFINITY
    const k = this.kept.get(peer)
    if (k) {
      k.address = address
      k.failures = 0
      k.giveUpAfter = Math.max(k.giveUpAfter, giveUpAfter)
      this.cancel(k)
    } else {
      this.kept.set(peer, { address, failures: 0, established: false, giveUpAfter, timer: undefined })
    }
    return this.modules.connected(peer) ? Promise.resolve(true) : this.dial(peer)
  }

  /** Stops keeping `peer` (removed by the operator, or of another chain). */
  forget(peer: string): void {
    const k = this.kept.get(peer)
    if (!k) return
    this.cancel(k)
    this.kept.delete(peer)
  }

  isKept(peer: string): boolean {
    return this.kept.has(peer)
  }

  /** The delay before the next dial of `peer` after a failure now (for logs and tests). */
  delayOf(peer: string): number | undefined {
    const k = this.kept.get(peer)
    return k ? this.delay(k.failures) : undefined
  }

  /** The peer passed the status exchange: its failures are forgiven. */
  established(peer: string): void {
    const k = this.kept.get(peer)
    if (!k) return
    k.failures = 0
    k.established = true
  }

  /** The peer's last connection ended: dial it again, soon if it had passed status, else later. */
  disconnected(peer: string): void {
    const k = this.kept.get(peer)
    if (!k || this.stopped) return
    if (!k.established) k.failures++
    k.established = false
    this.schedule(peer, k)
  }

  /** No more dials. */
  stop(): void {
    this.stopped = true
    for (const k of this.kept.values()) this.cancel(k)
  }

  private delay(failures: number): number {
    return Math.min(this.opts.maxMs, this.opts.minMs * 2 ** Math.max(0, failures - 1))
  }

  private schedule(peer: string, k: Kept): void {
    this.cancel(k)
    if (k.failures >= k.giveUpAfter) {
      this.modules.logger.debug({ peer, address: k.address, failures: k.failures }, 'peer no longer kept: unreachable')
      this.kept.delete(peer)
      return
    }
    const ms = k.failures === 0 ? this.opts.minMs : this.delay(k.failures)
    k.timer = this.setTimer(() => {
      k.timer = undefined
      if (!this.stopped && this.kept.get(peer) === k && !this.modules.connected(peer)) void this.dial(peer)
    }, ms)
  }

  private async dial(peer: string): Promise<boolean> {
    const k = this.kept.get(peer)
    if (!k) return false
    try {
      await this.modules.dial(peer, k.address)
      return true
    } catch (err) {
      if (this.stopped || this.kept.get(peer) !== k) return false
      k.failures++
      this.modules.logger.debug(
        { peer, address: k.address, err, failures: k.failures, retryMs: this.delay(k.failures) },
        'dial failed',
      )
      // A dial that failed while another connection came up (the peer dialled us) needs no retry.
      if (!this.modules.connected(peer)) this.schedule(peer, k)
      return false
    }
  }

  private cancel(k: Kept): void {
    if (k.timer !== undefined) this.clearTimer(k.timer)
    k.timer = undefined
  }
}
