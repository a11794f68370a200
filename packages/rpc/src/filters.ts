import { randomBytes } from 'node:crypto'
import type { LogEntry } from '@cairn/chain'
import { bytesToHex, CairnError } from '@cairn/utils'
import type { RpcContext } from './context.ts'
import { RpcErrorCode } from './errors.ts'
import type { LogFilter } from './schemas.ts'

/** What a polled filter collects between two eth_getFilterChanges. */
type Installed =
  | { kind: 'logs'; criteria: LogFilter; matches: (l: LogEntry) => boolean; buffer: LogEntry[]; polled: number }
  | { kind: 'blocks' | 'pending'; buffer: string[]; polled: number }

/** A filter to install: what it watches. */
export type FilterSpec =
  | { kind: 'logs'; criteria: LogFilter; matches: (l: LogEntry) => boolean }
  | { kind: 'blocks' | 'pending' }

/** Most filters installed at once per node; most changes one filter buffers between polls. */
export const FILTER_LIMITS = { filters: 10_000, buffered: 100_000 }

/**
 * Polled filters (eth_newFilter, eth_newBlockFilter, eth_newPendingTransactionFilter): each
 * buffers what arrived since its last poll, from the chain's `newHead`/`logs` events (removed logs
 * included, `removed: true`) and the pool's `added` event. A filter not polled within
 * `limits.filterTimeoutMs` (geth: 5 minutes) is uninstalled. Listens to events only while some
 * filter is installed.
 */
export class FilterRegistry {
  private readonly filters = new Map<string, Installed>()
  private off: (() => void)[] = []
  private sweeper: NodeJS.Timeout | undefined

  private readonly now: () => number

  constructor(private readonly ctx: RpcContext) {
    this.now = ctx.clockMs ?? Date.now
  }

  install(f: FilterSpec): string {
    this.sweep()
    if (this.filters.size >= FILTER_LIMITS.filters) {
      throw new CairnError(RpcErrorCode.LIMIT, `too many filters installed (max ${FILTER_LIMITS.filters})`, {
        fault: 'transient',
        hint: 'uninstall filters you no longer poll (eth_uninstallFilter)',
      })
    }
    const id = `0x${randomBytes(16).toString('hex')}`
    this.filters.set(id, { ...f, buffer: [], polled: this.now() } as Installed)
    this.listen()
    return id
  }

  /** The filter with this id, marked as polled now; "filter not found" (as geth) otherwise. */
  poll(id: string): Installed {
    this.sweep()
    const f = this.filters.get(id.toLowerCase())
    if (!f) throw new CairnError(RpcErrorCode.NOT_FOUND, 'filter not found', { fault: 'caller' })
    f.polled = this.now()
    return f
  }

  /**
   * Puts `logs` before what a log filter buffered (the historic logs a dev chain's first poll
   * answers, as Anvil's): past the buffer's limit the oldest go, as for new ones.
   */
  prepend(id: string, logs: LogEntry[]): void {
    const f = this.filters.get(id.toLowerCase())
    if (f?.kind !== 'logs' || logs.length === 0) return
    f.buffer = [...logs, ...f.buffer].slice(-FILTER_LIMITS.buffered)
  }

  /** Takes what the filter buffered since the last poll. */
  takeChanges(id: string): Installed['buffer'] {
    const f = this.poll(id)
    const out = f.buffer
    f.buffer = []
    return out
  }

  uninstall(id: string): boolean {
    const removed = this.filters.delete(id.toLowerCase())
    if (this.filters.size === 0) this.stopListening()
    return removed
  }

  get size(): number {
    return this.filters.size
  }

  /** Uninstalls filters not polled within the timeout. */
  sweep(now = this.now()): void {
    const ttl = this.ctx.limits.filterTimeoutMs
    for (const [id, f] of this.filters) if (now - f.polled > ttl) this.filters.delete(id)
    if (this.filters.size === 0) this.stopListening()
  }

  private push(f: Installed, items: Installed['buffer']): void {
    const buffer = f.buffer as unknown[]
    for (const item of items) buffer.push(item)
    if (buffer.length > FILTER_LIMITS.buffered) buffer.splice(0, buffer.length - FILTER_LIMITS.buffered)
  }

  private listen(): void {
    if (this.off.length > 0) return
    const { chain, pool } = this.ctx
    this.off.push(
      chain.events.on('newHead', ({ block }) => {
        const hash = bytesToHex(block.hash())
        for (const f of this.filters.values()) if (f.kind === 'blocks') this.push(f, [hash])
      }),
      chain.events.on('logs', (logs) => {
        for (const f of this.filters.values()) {
          if (f.kind !== 'logs') continue
          this.push(
            f,
            logs.filter((l) => f.matches(l) && inRange(f.criteria, l.blockNumber)),
          )
        }
      }),
      pool.events.on('added', (tx) => {
        const hash = bytesToHex(tx.hash())
        for (const f of this.filters.values()) if (f.kind === 'pending') this.push(f, [hash])
      }),
    )
    const every = Math.max(1000, Math.min(60_000, this.ctx.limits.filterTimeoutMs / 2))
    this.sweeper = setInterval(() => this.sweep(), every)
    this.sweeper.unref()
  }

  private stopListening(): void {
    for (const off of this.off) off()
    this.off = []
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = undefined
  }
}

/** Whether a new log's block lies within numeric fromBlock/toBlock bounds (tags are open). */
function inRange(c: LogFilter, n: bigint): boolean {
  if (typeof c.fromBlock === 'bigint' && n < c.fromBlock) return false
  if (typeof c.toBlock === 'bigint' && n > c.toBlock) return false
  return true
}

const registries = new WeakMap<RpcContext, FilterRegistry>()

/** The node's filter registry (one per RPC context, made on first use). */
export function filtersOf(ctx: RpcContext): FilterRegistry {
  let r = registries.get(ctx)
  if (!r) {
    r = new FilterRegistry(ctx)
    registries.set(ctx, r)
  }
  return r
}
