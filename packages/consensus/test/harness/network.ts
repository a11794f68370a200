import { Chain, type ChainMetrics, devGenesis, type ProcessResult } from '@cairn/chain'
import { createCustomCrypto, initCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { type ChainFollower, DEFAULT_TXPOOL_OPTIONS, followChain, TxPool } from '@cairn/txpool'
import { bytesToHex, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { ADDRS } from '../../../chain/test/helpers.ts'
import { DevEngine } from '../../src/index.ts'
import { ManualClock } from './clock.ts'

/** What nodes send each other. */
export type Message =
  | { kind: 'block'; bytes: Uint8Array }
  | { kind: 'tx'; bytes: Uint8Array }
  | { kind: 'getBlock'; hash: Uint8Array }

export interface HarnessOptions {
  nodes: number
  /** Delivery delay between two nodes (ms); default 50. */
  delayMs?: number | ((from: number, to: number) => number)
  /** Share of messages lost, 0..1, drawn from a seeded generator; default 0. */
  loss?: number
  /** Seed of the loss generator. */
  seed?: number
  /** Ask the sender for an unknown parent (a minimal sync); default true. */
  fetchParents?: boolean
  /** Each node's chain metrics (default none). */
  chainMetrics?: (index: number) => ChainMetrics | null
}

/** One node: a chain on MemoryKV, a pool following it, a dev producer that seals when told. */
export interface HarnessNode {
  index: number
  chain: Chain
  pool: TxPool
  engine: DevEngine
  follower: ChainFollower
  /** Outcomes of blocks received from peers, in order. */
  received: { from: number; result: ProcessResult }[]
  /** Penalties this node gave each peer (blocks the peer was to blame for). */
  penalties: Map<number, number>
}

/** A 32-bit seeded generator (mulberry32): the harness's only randomness. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * N Cairn nodes in one process, over an in-memory transport with controllable delay, loss and
 * partitions, on an injected clock. Blocks travel as RLP bytes into `chain.processBlock` (source
 * `gossip`, the sender as peer), transactions into the pool; every new head is flooded to the
 * other nodes, an unknown parent is asked of the sender. Deterministic: timers fire only when the
 * test runs the clock ({@link run}), and each delivery is processed to the end before the next.
 * What the BFT and P2P issues build on.
 */
export class Harness {
  readonly clock = new ManualClock()
  readonly nodes: HarnessNode[] = []
  /** Groups that can reach each other; undefined: everyone reaches everyone. */
  private groups: number[][] | undefined
  private readonly random: () => number
  private pending: Promise<unknown>[] = []
  /** Messages sent and dropped (loss or partition), for assertions. */
  readonly stats = { sent: 0, dropped: 0, delivered: 0 }

  private constructor(readonly opts: HarnessOptions) {
    this.random = seeded(opts.seed ?? 1)
  }

  static async create(opts: HarnessOptions): Promise<Harness> {
    await initCrypto()
    const h = new Harness(opts)
    const genesis = devGenesis({ accounts: ADDRS })
    for (let i = 0; i < opts.nodes; i++) h.nodes.push(await h.makeNode(i, genesis))
    return h
  }

  private async makeNode(index: number, genesis: unknown): Promise<HarnessNode> {
    const kv = new MemoryKV()
    await kv.open()
    const now = () => this.clock.seconds()
    // Two phases, as the node wires it: the engine first (the chain's rules), then attach.
    const engine = new DevEngine(
      { blockTime: 0, coinbase: new Uint8Array(20).fill(index + 1), instantFinality: false },
      { logger: silentLogger, now },
    )
    const chain = await Chain.open(
      { genesis },
      {
        kv,
        engine,
        logger: silentLogger,
        metrics: this.opts.chainMetrics?.(index) ?? null,
        customCrypto: createCustomCrypto(),
        now,
      },
    )
    const pool = new TxPool(
      { ...DEFAULT_TXPOOL_OPTIONS, minTip: 0n },
      { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger: silentLogger, metrics: null },
    )
    const follower = followChain(pool, chain.events, { logger: silentLogger })
    engine.attach({ chain, pool, follower })
    const node: HarnessNode = { index, chain, pool, engine, follower, received: [], penalties: new Map() }
    // Flood every block that becomes the head (the local producer's and relayed ones).
    chain.events.on('newHead', ({ block }) => this.broadcast(index, { kind: 'block', bytes: block.serialize() }))
    return node
  }

  /** Splits the nodes into groups that reach only each other (messages across are dropped). */
  partition(...groups: number[][]): void {
    this.groups = groups
  }

  heal(): void {
    this.groups = undefined
  }

  private reachable(a: number, b: number): boolean {
    return this.groups === undefined || this.groups.some((g) => g.includes(a) && g.includes(b))
  }

  /** Sends `msg` from node `from` to node `to`, after the delay, unless lost or partitioned. */
  send(from: number, to: number, msg: Message, delayMs?: number): void {
    this.stats.sent++
    const loss = this.opts.loss ?? 0
    if (!this.reachable(from, to) || (loss > 0 && this.random() < loss)) {
      this.stats.dropped++
      return
    }
    const d = this.opts.delayMs ?? 50
    const delay = delayMs ?? (typeof d === 'function' ? d(from, to) : d)
    this.clock.setTimeout(() => {
      // Partitions are judged again on arrival: a message in flight when they form is lost.
      if (!this.reachable(from, to)) {
        this.stats.dropped++
        return
      }
      this.stats.delivered++
      this.pending.push(this.deliver(from, to, msg))
    }, delay)
  }

  broadcast(from: number, msg: Message): void {
    for (const n of this.nodes) if (n.index !== from) this.send(from, n.index, msg)
  }

  private async deliver(from: number, to: number, msg: Message): Promise<void> {
    const node = this.nodes[to] as HarnessNode
    if (msg.kind === 'getBlock') {
      const block = await node.chain.getBlock(msg.hash)
      if (block) this.send(to, from, { kind: 'block', bytes: block.serialize() })
      return
    }
    if (msg.kind === 'tx') {
      const tx = createTxFromRLP(msg.bytes, { common: node.chain.common })
      try {
        await node.pool.add(tx, { source: 'remote' })
        this.broadcast(to, msg)
      } catch {}
      return
    }
    const result = await node.chain.processBlock(msg.bytes, { source: 'gossip', peer: String(from) })
    node.received.push({ from, result })
    if (result.status === 'error' && result.error.penalize) {
      node.penalties.set(from, (node.penalties.get(from) ?? 0) + 1)
    }
    if (result.status === 'unknownParent' && this.opts.fetchParents !== false) {
      this.send(to, from, { kind: 'getBlock', hash: result.parentHash })
    }
    // A block that imported as a side block is not flooded by newHead: relay it too.
    if (result.status === 'imported' && !result.head) this.broadcast(to, msg)
  }

  /** Waits until every delivery started so far has been processed (and what it started). */
  async settle(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending
      this.pending = []
      await Promise.all(batch)
      await Promise.all(this.nodes.map((n) => n.follower.settled()))
    }
  }

  /** Runs the clock for `ms`, processing each delivery to the end before the next is due. */
  async run(ms = 60_000): Promise<void> {
    const until = this.clock.now() + ms
    await this.settle()
    while (this.clock.step(until)) await this.settle()
  }

  /** Node `i` seals a block now (with what its pool holds) and floods it. */
  async produce(i: number): Promise<Block> {
    const node = this.nodes[i] as HarnessNode
    const built = await node.engine.seal()
    await this.settle()
    return built.block
  }

  /** Sends a transaction into node `i`'s pool, and floods it to the others. */
  async submit(i: number, tx: TypedTransaction): Promise<void> {
    await (this.nodes[i] as HarnessNode).pool.add(tx, { source: 'local' })
    this.broadcast(i, { kind: 'tx', bytes: tx.serialize() })
  }

  head(i: number): string {
    return bytesToHex((this.nodes[i] as HarnessNode).chain.head.hash())
  }
}
