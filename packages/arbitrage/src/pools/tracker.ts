// The pool collector: discovers Uniswap V2-style pairs from their factories' PairCreated logs and
// keeps their reserves current from Sync logs, block by block, over any EVM node's JSON-RPC.
//
// Every block is read by number, its logs by the block's hash (so a log always belongs to the block
// it was read with), and what each block changed is written to an undo journal. When a block's
// parent is not the block we applied at that height, the chain reorganised: the journal undoes our
// blocks back to the common ancestor (the removed logs' effects) and the new branch is applied. A
// reorg deeper than the journal falls back to reading every pool's reserves again.
//
// Over a WebSocket subscription (pools/chain-stream.ts) the same journal serves two more signals:
// a removed log (the node dropped a block we applied) undoes that block and those above it at the
// next poll, before the node's new branch is read; and after the socket was down, the next poll
// reconciles every pool with getReserves (a notification may have been lost with the socket).
import { CairnError, type Logger } from '@cairn/utils'
import type { Hex, PublicClient } from 'viem'
import { ArbErrorCode } from '../errors.ts'
import type { Address, TokenGraph } from '../graph/token-graph.ts'
import type { PoolFee } from '../math/v2.ts'
import { pairAbi, pairCreatedEvent, syncEvent } from './abi.ts'

export interface FactoryConfig {
  address: Address
  /** The fee of every pair the factory creates (Uniswap V2: 997/1000). */
  fee: PoolFee
  /** The block to read PairCreated logs from (the factory's deployment); default 0. */
  fromBlock?: bigint
}

export interface PoolTrackerOptions {
  factories: readonly FactoryConfig[]
  /** Blocks kept in the undo journal: the deepest reorg undone log by log. Default 128. */
  reorgDepth?: number
  /** Blocks per eth_getLogs request while discovering. Default 5000. */
  logRange?: bigint
  /** Parallel getReserves calls while discovering. Default 16. */
  concurrency?: number
}

export interface PoolTrackerModules {
  client: PublicClient
  graph: TokenGraph
  logger: Logger
}

/** What one block (or the initial sync) changed. */
export interface BlockUpdate {
  number: bigint
  hash: Hex
  /** Pools whose reserves changed (created ones included). */
  changed: Set<Address>
  /** Pools created in this block. */
  created: Address[]
  /** Set when this block follows a reorg: how many of our blocks were undone first. */
  reorgDepth?: number
}

type Undo = { kind: 'created'; pool: Address } | { kind: 'reserves'; pool: Address; reserve0: bigint; reserve1: bigint }

export class PoolTracker {
  private readonly factories: Map<Address, FactoryConfig>
  private readonly reorgDepth: number
  private readonly logRange: bigint
  private readonly concurrency: number
  /** Hash of each applied block still in the journal window (and the head). */
  private readonly hashes = new Map<bigint, Hex>()
  private readonly journal = new Map<bigint, Undo[]>()
  private headNumber: bigint | undefined
  /** Pools whose reserves an undo changed, reported with the next update. */
  private readonly undone = new Set<Address>()
  /** Blocks reported removed (a subscription's removed logs), undone at the next poll. */
  private readonly removed = new Map<bigint, Hex>()
  /** Blocks already undone for removed logs, reported as the next update's reorg depth. */
  private removedDepth = 0
  /** The next poll reads every pool's reserves too (after the subscription was down). */
  private reconcileNext = false

  constructor(
    opts: PoolTrackerOptions,
    private readonly modules: PoolTrackerModules,
  ) {
    this.factories = new Map(opts.factories.map((f) => [f.address.toLowerCase() as Address, f]))
    this.reorgDepth = opts.reorgDepth ?? 128
    this.logRange = opts.logRange ?? 5000n
    this.concurrency = opts.concurrency ?? 16
  }

  /** The last block applied, if any. */
  get head(): { number: bigint; hash: Hex } | undefined {
    if (this.headNumber === undefined) return undefined
    return { number: this.headNumber, hash: this.hashes.get(this.headNumber)! }
  }

  /**
   * The initial sync: every pair the factories created up to the current head, with its reserves
   * at that head.
   */
  async start(): Promise<BlockUpdate> {
    const { client, graph, logger } = this.modules
    const head = await this.rpc('eth_getBlockByNumber', () => client.getBlock({ blockTag: 'latest' }))
    const created: Address[] = []
    for (const f of this.factories.values()) {
      for (let from = f.fromBlock ?? 0n; from <= head.number; from += this.logRange) {
        const to = from + this.logRange - 1n < head.number ? from + this.logRange - 1n : head.number
        const logs = await this.rpc('eth_getLogs', () =>
          client.getLogs({ address: f.address, event: pairCreatedEvent, fromBlock: from, toBlock: to, strict: true }),
        )
        for (const l of logs) {
          const pool = l.args.pair.toLowerCase() as Address
          graph.addPool({
            address: pool,
            token0: l.args.token0,
            token1: l.args.token1,
            fee: f.fee,
            reserve0: 0n,
            reserve1: 0n,
          })
          created.push(pool)
        }
      }
    }
    await this.readReserves(created, head.number)
    this.reset(head.number, head.hash)
    logger.info({ block: Number(head.number), pools: graph.poolCount, cycles: graph.cycleCount }, 'pools discovered')
    return { number: head.number, hash: head.hash, changed: new Set(created), created }
  }

  /**
   * A removed log's block (the node reorganised it away): if it is a block we applied, the next
   * poll undoes it and every block above it from the journal before reading the new branch.
   */
  noteRemoved(number: bigint, hash: Hex): void {
    this.removed.set(number, hash.toLowerCase() as Hex)
  }

  /** The next poll also reads every pool's reserves (getReserves) and reports those that were wrong. */
  requestReconcile(): void {
    this.reconcileNext = true
  }

  /** Applies every block from the last applied one to the node's head; one update per block. */
  async poll(): Promise<BlockUpdate[]> {
    if (this.headNumber === undefined) return [await this.start()]
    this.undoRemoved()
    const out = await this.follow()
    if (this.reconcileNext && this.headNumber !== undefined) {
      this.reconcileNext = false
      const wrong = await this.reconcile()
      if (wrong.length > 0) {
        this.modules.logger.warn({ pools: wrong.length }, 'reconciled: reserves read again differed')
        const h = this.head!
        const last = out.at(-1)
        if (last && last.number === h.number) for (const p of wrong) last.changed.add(p)
        else out.push({ number: h.number, hash: h.hash, changed: new Set(wrong), created: [] })
      }
    }
    return out
  }

  private async follow(): Promise<BlockUpdate[]> {
    const { client } = this.modules
    const latest = await this.rpc('eth_blockNumber', () => client.getBlockNumber({ cacheTime: 0 }))
    const out: BlockUpdate[] = []
    const carried = this.removedDepth
    this.removedDepth = 0
    if (this.headNumber === undefined) return [await this.resync()]
    // our head must still be the node's block at that height (a reorg to a branch no longer than
    // ours, or a rewind of the chain, shows up here and nowhere else)
    const head = this.headNumber
    const ancestor = await this.rewind(head, latest)
    if (ancestor === undefined) return [await this.resync()]
    let pendingReorg: number | undefined =
      ancestor < head || carried > 0 ? Number(head - ancestor) + carried : undefined
    let n = ancestor + 1n
    while (n <= latest) {
      const block = await this.rpc('eth_getBlockByNumber', () => client.getBlock({ blockNumber: n }))
      const parent = this.hashes.get(n - 1n)
      if (parent !== undefined && block.parentHash !== parent) {
        const back = await this.rewind(n - 1n, latest)
        if (back === undefined) {
          out.push(await this.resync())
          return out
        }
        pendingReorg = (pendingReorg ?? 0) + Number(n - 1n - back)
        n = back + 1n
        continue
      }
      const update = await this.applyBlock(block.number, block.hash)
      if (pendingReorg !== undefined) {
        update.reorgDepth = pendingReorg
        pendingReorg = undefined
        for (const p of this.undone) if (this.modules.graph.pool(p)) update.changed.add(p)
        this.undone.clear()
      }
      out.push(update)
      n++
    }
    if (pendingReorg !== undefined) {
      // undone, and no block of the new branch above the ancestor yet
      const changed = new Set([...this.undone].filter((p) => this.modules.graph.pool(p)))
      this.undone.clear()
      const h = this.head!
      out.push({ number: h.number, hash: h.hash, changed, created: [], reorgDepth: pendingReorg })
    }
    return out
  }

  /**
   * Reads every known pool's reserves at the head and fixes any that differ (after a deep reorg,
   * or periodically as a check); returns the pools that were wrong.
   */
  async reconcile(): Promise<Address[]> {
    if (this.headNumber === undefined) return []
    const pools = [...this.modules.graph.allPools()].map((p) => p.address)
    return this.readReserves(pools, this.headNumber)
  }

  // -- internals ---------------------------------------------------------------------------------

  /** Undoes, from the journal, every block noted removed that we applied, and all blocks above it. */
  private undoRemoved(): void {
    if (this.removed.size === 0) return
    let lowest: bigint | undefined
    for (const [n, hash] of this.removed)
      if (this.hashes.get(n)?.toLowerCase() === hash && (lowest === undefined || n < lowest)) lowest = n
    this.removed.clear()
    if (lowest === undefined || this.headNumber === undefined) return
    const { logger } = this.modules
    let k = this.headNumber
    for (; k >= lowest; k--) {
      const undo = this.journal.get(k)
      if (undo === undefined) {
        // the journal does not reach it: the next poll finds no ancestor and reads everything again
        this.hashes.clear()
        break
      }
      this.undoBlock(k, undo)
      this.removedDepth++
    }
    logger.warn({ from: Number(lowest), depth: this.removedDepth }, 'reorg: removed logs undone')
    this.headNumber = lowest - 1n
  }

  /** Reverts block `k`'s pool changes (its journal, newest first) and forgets the block. */
  private undoBlock(k: bigint, undo: Undo[]): void {
    const { graph } = this.modules
    for (let i = undo.length - 1; i >= 0; i--) {
      const u = undo[i]!
      if (u.kind === 'created') graph.removePool(u.pool)
      else graph.setReserves(u.pool, u.reserve0, u.reserve1)
      this.undone.add(u.pool)
    }
    this.journal.delete(k)
    this.hashes.delete(k)
  }

  private async applyBlock(number: bigint, hash: Hex): Promise<BlockUpdate> {
    const { client, graph } = this.modules
    const logs = await this.rpc('eth_getLogs', () =>
      client.getLogs({ events: [pairCreatedEvent, syncEvent], blockHash: hash, strict: true }),
    )
    const undo: Undo[] = []
    const touched = new Set<Address>()
    const changed = new Set<Address>()
    const created: Address[] = []
    for (const l of logs) {
      const emitter = l.address.toLowerCase() as Address
      if (l.eventName === 'PairCreated') {
        const f = this.factories.get(emitter)
        if (!f) continue
        const pool = l.args.pair.toLowerCase() as Address
        if (graph.pool(pool)) continue
        graph.addPool({
          address: pool,
          token0: l.args.token0,
          token1: l.args.token1,
          fee: f.fee,
          reserve0: 0n,
          reserve1: 0n,
        })
        undo.push({ kind: 'created', pool })
        touched.add(pool)
        created.push(pool)
        changed.add(pool)
      } else {
        const p = graph.pool(emitter)
        if (!p) continue
        if (!touched.has(emitter)) {
          undo.push({ kind: 'reserves', pool: emitter, reserve0: p.reserve0, reserve1: p.reserve1 })
          touched.add(emitter)
        }
        graph.setReserves(emitter, l.args.reserve0, l.args.reserve1)
        changed.add(emitter)
      }
    }
    this.journal.set(number, undo)
    this.hashes.set(number, hash)
    this.headNumber = number
    this.prune()
    return { number, hash, changed, created }
  }

  /**
   * Undoes our blocks from `from` down while they are not the node's canonical block at their
   * height (blocks above `latest` no longer exist); returns the common ancestor's number (`from`
   * itself when nothing was undone), or undefined when the journal does not reach it.
   */
  private async rewind(from: bigint, latest: bigint): Promise<bigint | undefined> {
    const { client, logger } = this.modules
    let k = from
    for (;;) {
      const ours = this.hashes.get(k)
      if (ours === undefined) return undefined
      if (k <= latest) {
        const theirs = await this.rpc('eth_getBlockByNumber', () => client.getBlock({ blockNumber: k }))
        if (theirs.hash === ours) break
      }
      const undo = this.journal.get(k)
      if (undo === undefined) return undefined
      this.undoBlock(k, undo)
      k--
    }
    if (k < from) logger.warn({ ancestor: Number(k), depth: Number(from - k) }, 'reorg: blocks undone')
    this.headNumber = k
    return k
  }

  /** A reorg deeper than the journal: read every pool's reserves at the new head. */
  private async resync(): Promise<BlockUpdate> {
    const { client, logger } = this.modules
    const head = await this.rpc('eth_getBlockByNumber', () => client.getBlock({ blockTag: 'latest' }))
    logger.error(
      { code: ArbErrorCode.REORG_TOO_DEEP, block: Number(head.number), journal: this.reorgDepth },
      'reorg deeper than the undo journal: reserves read again (pools created on the dropped branch stay known)',
    )
    this.headNumber = head.number
    const wrong = await this.reconcile()
    this.reset(head.number, head.hash)
    return { number: head.number, hash: head.hash, changed: new Set(wrong), created: [], reorgDepth: this.reorgDepth }
  }

  /** getReserves for `pools` at block `at`, `concurrency` at a time; returns those that changed. */
  private async readReserves(pools: readonly Address[], at: bigint): Promise<Address[]> {
    const { client, graph } = this.modules
    const wrong: Address[] = []
    for (let i = 0; i < pools.length; i += this.concurrency) {
      const batch = pools.slice(i, i + this.concurrency)
      const got = await Promise.all(
        batch.map((address) =>
          this.rpc('eth_call', () =>
            client.readContract({ address, abi: pairAbi, functionName: 'getReserves', blockNumber: at }),
          ),
        ),
      )
      batch.forEach((address, j) => {
        const [r0, r1] = got[j]!
        const p = graph.pool(address)!
        if (p.reserve0 !== r0 || p.reserve1 !== r1) {
          graph.setReserves(address, r0, r1)
          wrong.push(address)
        }
      })
    }
    return wrong
  }

  private reset(number: bigint, hash: Hex): void {
    this.hashes.clear()
    this.journal.clear()
    this.undone.clear()
    this.hashes.set(number, hash)
    this.headNumber = number
  }

  private prune(): void {
    if (this.headNumber === undefined) return
    const floor = this.headNumber - BigInt(this.reorgDepth)
    for (const k of this.hashes.keys()) if (k < floor) this.hashes.delete(k)
    for (const k of this.journal.keys()) if (k < floor) this.journal.delete(k)
  }

  private async rpc<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw new CairnError(ArbErrorCode.RPC, `${method} failed: ${(err as Error).message.split('\n')[0]}`, {
        fault: 'transient',
        cause: err,
        meta: { method },
      })
    }
  }
}
