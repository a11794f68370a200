// One nonce owner per signing account: hands out nonces locally (no RPC round trip per trade, no
// two trades on one nonce), tracks what is in flight, and reads the account's pending nonce again
// after an error (a send that failed may or may not have used its nonce).
import type { Logger } from '@cairn/utils'
import { Mutex } from 'async-mutex'
import type { NonceSource } from '../engine-options.ts'
import type { Address } from '../graph/token-graph.ts'

export interface NonceClient {
  getTransactionCount(args: { address: Address; blockTag: 'pending' | 'latest' }): Promise<number>
}

export interface NonceManagerModules {
  client: NonceClient
  logger: Logger
}

export class NonceManager implements NonceSource {
  private nextNonce: number | null = null
  private readonly inFlight = new Set<number>()
  private readonly lock = new Mutex()

  constructor(
    private readonly opts: { address: Address },
    private readonly modules: NonceManagerModules,
  ) {}

  get address(): Address {
    return this.opts.address
  }

  /** The next nonce: the account's pending count the first time (and after a resync), then counted here. */
  next(): Promise<number> {
    return this.lock.runExclusive(async () => {
      if (this.nextNonce === null) this.nextNonce = await this.read()
      const n = this.nextNonce++
      this.inFlight.add(n)
      return n
    })
  }

  settled(nonce: number): void {
    this.inFlight.delete(nonce)
  }

  /** Nonces handed out and not settled, ascending. */
  pending(): number[] {
    return [...this.inFlight].sort((a, b) => a - b)
  }

  /**
   * Reads the pending nonce again (after a failed send, or a transaction replaced by someone else).
   * Nonces in flight at or above the chain's count stay tracked; those below it are settled.
   */
  resync(): Promise<void> {
    return this.lock.runExclusive(async () => {
      const chain = await this.read()
      for (const n of this.inFlight) if (n < chain) this.inFlight.delete(n)
      const before = this.nextNonce
      this.nextNonce = chain
      if (before !== chain) this.modules.logger.info({ account: this.opts.address, before, chain }, 'nonce resynced')
    })
  }

  private read(): Promise<number> {
    return this.modules.client.getTransactionCount({ address: this.opts.address, blockTag: 'pending' })
  }
}

/**
 * Fees for a replacement: each of maxFeePerGas and maxPriorityFeePerGas raised by at least
 * `percent` (geth and most pools require 10% on both; rounded up so 10% is never missed), and at
 * least what the network asks now. Null when that would pass `cap` (wei per gas).
 */
export function bumpFees(
  old: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
  now: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
  percent = 12.5,
  cap?: bigint,
): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | null {
  const bps = BigInt(Math.ceil(percent * 100))
  const up = (v: bigint) => (v * (10_000n + bps) + 9_999n) / 10_000n
  const tip =
    up(old.maxPriorityFeePerGas) > now.maxPriorityFeePerGas ? up(old.maxPriorityFeePerGas) : now.maxPriorityFeePerGas
  let max = up(old.maxFeePerGas) > now.maxFeePerGas ? up(old.maxFeePerGas) : now.maxFeePerGas
  if (max < tip) max = tip
  if (cap !== undefined && max > cap) return null
  return { maxFeePerGas: max, maxPriorityFeePerGas: tip }
}
