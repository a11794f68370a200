// One node of the simulated DAG network: its own BlockDag (GhostDAG and reachability), its own
// executor along its virtual chain, its tips, a pool of transfers, and the blocks it holds until
// their parents arrive (as Kaspa's relay fetches missing parents).
import {
  type AccountState,
  accountRules,
  BlockDag,
  type BlockHash,
  compareSortable,
  DagDifficulty,
  DagExecutor,
  DagView,
  type GhostdagMetrics,
  MemoryDagStore,
  MemoryReachabilityStore,
  type Transfer,
} from '../../../src/ghostdag/index.ts'

export interface SimBlock {
  hash: BlockHash
  parents: BlockHash[]
  txs: Transfer[]
  miner: number
  honest: boolean
  /** Mined by the attacker in private, released later. */
  withheld: boolean
  minedAt: number
}

export class SimNode {
  readonly id: number
  readonly bd: BlockDag
  readonly store = new MemoryDagStore()
  readonly ex: DagExecutor<Transfer, AccountState>
  readonly tips = new Set<BlockHash>()
  /** What the RPC and the metrics would see. */
  readonly view: DagView
  readonly pool = new Map<string, Transfer>()
  /** Blocks waiting for a parent, by the missing parent. */
  readonly #waiting = new Map<BlockHash, SimBlock[]>()
  /** Blocks in the order this node added them (a topological order). */
  readonly order: BlockHash[] = []
  maxReorgDepth = 0
  chainChanges = 0
  /** Per sender nonce, the transfer applied for it and since when (this node's view). */
  readonly #appliedByNonce = new Map<string, { id: string; since: number }>()
  /** Transfers whose sender nonce went to a conflicting transfer after they had been applied. */
  flips = 0
  /** The longest a transfer had been applied before such a flip, in seconds. */
  maxFlipAge = 0
  readonly #now: () => number

  constructor(
    id: number,
    opts: { k: number; genesis: BlockHash; genesisState: AccountState },
    blockTxs: (hash: BlockHash) => readonly Transfer[],
    now: () => number,
    metrics: GhostdagMetrics | null = null,
  ) {
    this.id = id
    this.#now = now
    this.bd = new BlockDag(
      { k: opts.k, genesis: opts.genesis },
      { store: this.store, reachability: new MemoryReachabilityStore() },
    )
    this.ex = new DagExecutor(
      { genesis: opts.genesis, genesisState: opts.genesisState },
      { ghostdag: this.store, reachability: this.bd.reachability, transactions: blockTxs, rules: accountRules },
    )
    // The DAA score only (no mining here): the schedule's parameters are not used.
    const difficulty = new DagDifficulty(
      {
        targetBlockMs: 100n,
        halfLifeMs: 60_000n,
        powLimit: (1n << 255n) - 1n,
        anchor: { daaScore: 0n, parentTimeMs: 0n, bits: 0x1f00ffff },
      },
      { ghostdag: this.store, timeMs: () => 0n },
    )
    this.view = new DagView(
      {},
      { dag: this.bd, relations: this.store, metrics, daaScore: (h) => difficulty.daaScore(h) },
    )
    this.tips.add(opts.genesis)
    this.order.push(opts.genesis)
  }

  has(hash: BlockHash): boolean {
    return this.bd.has(hash)
  }

  /** Takes a block from the network: adds it (and every block it was holding up), or holds it. */
  receive(block: SimBlock): void {
    if (this.has(block.hash)) return
    const missing = block.parents.find((p) => !this.has(p))
    if (missing !== undefined) {
      const list = this.#waiting.get(missing) ?? []
      if (!list.some((b) => b.hash === block.hash)) list.push(block)
      this.#waiting.set(missing, list)
      return
    }
    this.#add(block)
    const ready = this.#waiting.get(block.hash)
    if (ready) {
      this.#waiting.delete(block.hash)
      for (const b of ready) this.receive(b)
    }
  }

  get waiting(): number {
    let n = 0
    for (const l of this.#waiting.values()) n += l.length
    return n
  }

  #add(block: SimBlock): void {
    const sinkBefore = this.bd.sink
    this.bd.addBlock(block.hash, block.parents, 1n)
    this.order.push(block.hash)
    for (const p of block.parents) this.tips.delete(p)
    this.tips.add(block.hash)
    this.view.blockAdded(block.hash)
    if (this.bd.sink !== sinkBefore) {
      const u = this.ex.moveTo(this.bd.sink)
      this.view.chainUpdated(u)
      this.chainChanges++
      this.maxReorgDepth = Math.max(this.maxReorgDepth, u.removed.length)
      for (const acc of u.added) {
        for (const x of acc.txs) {
          if (!x.outcome.applied) continue
          const key = `${x.tx.from}:${x.tx.nonce}`
          const prev = this.#appliedByNonce.get(key)
          if (prev?.id === x.tx.id) continue
          if (prev) {
            this.flips++
            this.maxFlipAge = Math.max(this.maxFlipAge, this.#now() - prev.since)
          }
          this.#appliedByNonce.set(key, { id: x.tx.id, since: this.#now() })
        }
      }
    }
  }

  /** The parents a miner names: its tips of highest blue work, at most `maxParents`. */
  parentsForNewBlock(maxParents: number): BlockHash[] {
    const tips = [...this.tips].map((hash) => ({ hash, blueWork: this.bd.get(hash)!.blueWork }))
    tips.sort((a, b) => compareSortable(b, a))
    return tips.slice(0, maxParents).map((t) => t.hash)
  }

  /** Up to `max` pool transfers not yet outdated by this node's state, chosen at random. */
  pickTransactions(max: number, rand: () => number): Transfer[] {
    const state = this.ex.state
    const fresh: Transfer[] = []
    for (const [id, tx] of this.pool) {
      if (tx.nonce < (state.get(tx.from)?.nonce ?? 0)) this.pool.delete(id)
      else fresh.push(tx)
    }
    const picked: Transfer[] = []
    while (picked.length < max && fresh.length > 0) {
      const i = Math.floor(rand() * fresh.length)
      picked.push(fresh[i]!)
      fresh[i] = fresh[fresh.length - 1]!
      fresh.pop()
    }
    picked.sort((a, b) => (a.from === b.from ? a.nonce - b.nonce : a.from < b.from ? -1 : 1))
    for (const tx of picked) this.pool.delete(tx.id)
    return picked
  }
}
