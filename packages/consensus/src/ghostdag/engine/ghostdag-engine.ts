/**
 * The GhostDAG engine (`engine = "ghostdag"`): the rules of {@link GhostdagRules} plus a miner.
 * A template names every tip this node has executed as a parent (the sink, which is the chain
 * head, as `parentHash`; the others by blue work, at most `maxParents`, dropping the lightest while
 * the mergeset is above its limit), takes its difficulty from the DAG's ASERT target, and its body
 * is the accepted prefix its mergeset gives (derived by `beginBlock`) followed by the pool's
 * transactions. It is sealed on this node's threads (`MinerPool`, PoW's Argon2id seal) and
 * committed through the chain's one commit path — even when the head moved meanwhile: a block on
 * an old sink is still a DAG block, merged by the next ones (that is GhostDAG's point). Blocks off
 * the chain are announced on the blocks topic too (`capabilities.announces`). `DagView` follows
 * the chain's head and reorg events and answers `cairn_getDagInfo` / `cairn_getBlockDagData`.
 */
import type {
  BlockTxSource,
  BuildHeader,
  BuildResult,
  Chain,
  ExecutedBlock,
  ImportResult,
  ParentBlock,
} from '@cairn/chain'
import type { ChainFollower, TxPool } from '@cairn/txpool'
import { followChain } from '@cairn/txpool'
import { bytesToHex, CairnError, type Logger } from '@cairn/utils'
import { Block, type BlockHeader, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Engine, EngineCapabilities } from '../../engine.ts'
import { MinerPool } from '../../pow/miner-pool.ts'
import { type Seal, sealHash } from '../../pow/seal.ts'
import { workOf } from '../../pow/work.ts'
import type { BlockDagData, DagInfo } from '../dag-view.ts'
import { GhostdagErrorCode } from '../errors.ts'
import type { ChainBlockAcceptance } from '../execution.ts'
import { type BlockHash, hashFromBytes } from '../hash.ts'
import type { Carried } from './accepted-txs.ts'
import { GhostdagRules, type GhostdagRulesModules, type GhostdagRulesOptions } from './ghostdag-rules.ts'
import { encodeDagHeaderExtra } from './header-extra.ts'

export interface GhostdagEngineOptions extends GhostdagRulesOptions {
  mine?: boolean
  threads?: number
  coinbase?: Uint8Array
  /** Rebuild the template for new transactions at most this often, ms (default 500). */
  recommitMs?: number
  minerWorker?: URL
}

/** What the RPC reads of the DAG (`cairn_getDagInfo`, `cairn_getBlockDagData`). */
export interface DagApi {
  dagInfo(): Promise<DagInfo>
  blockDagData(
    hash: BlockHash,
  ): Promise<(BlockDagData & { acceptedTransactions: { hash: string; carriedBy: string }[] }) | undefined>
}

interface Template {
  built: BuildResult
  sealHash: Uint8Array
  target: bigint
  accepted: Carried[]
  sealed: boolean
}

export class GhostdagEngine extends GhostdagRules implements Engine, DagApi {
  readonly capabilities: EngineCapabilities
  private attached: { chain: Chain; pool: TxPool; follower: ChainFollower } | undefined
  private ownFollower: ChainFollower | undefined
  private running = false
  private miner: MinerPool | undefined
  private readonly jobs = new Map<number, Template>()
  private queue: Promise<unknown> = Promise.resolve()
  private refreshTimer: ReturnType<typeof setTimeout> | undefined
  private readonly unsubscribe: (() => void)[] = []
  private syncing: () => boolean = () => false
  private readonly recommitMs: number
  private lastTemplateAt = 0
  /** Blocks this node sealed that did not become the head: announced by the network. */
  private readonly announceListeners: ((block: Block) => void)[] = []

  constructor(
    readonly opts: GhostdagEngineOptions,
    deps: GhostdagRulesModules,
  ) {
    super(opts, deps)
    this.recommitMs = opts.recommitMs ?? 500
    this.capabilities = {
      announcesHeads: true,
      alwaysRuns: true,
      headWork: () => this.headBlueWork(),
      waitsForSync: this,
      dag: this,
      announcesSideBlocks: { onBlock: (f) => this.announceListeners.push(f) },
    }
  }

  attach(modules: { chain: Chain; pool: TxPool; follower?: ChainFollower }): void {
    this.ownFollower?.stop()
    this.ownFollower = modules.follower
      ? undefined
      : followChain(modules.pool, modules.chain.events, { logger: this.logger })
    this.attached = {
      chain: modules.chain,
      pool: modules.pool,
      follower: modules.follower ?? (this.ownFollower as ChainFollower),
    }
    this.reader = modules.chain
    this.initDag(modules.chain.genesisBlock.header)
  }

  private get modules(): { chain: Chain; pool: TxPool; follower: ChainFollower } {
    if (!this.attached) {
      throw new CairnError(
        GhostdagErrorCode.DATA_INCONSISTENCY,
        'the GhostDAG engine was not attached to a chain and a pool',
        {
          fault: 'internal',
          hint: 'call engine.attach({ chain, pool }) after opening the chain with the engine',
        },
      )
    }
    return this.attached
  }

  private get logger(): Logger {
    return this.deps.logger
  }

  private headBlueWork(): bigint | undefined {
    if (!this.attached) return undefined
    return this.dagNow()?.dag.get(hashFromBytes(this.attached.chain.head.hash()))?.blueWork
  }

  private dagNow() {
    return this.attached ? this.initDag(this.attached.chain.genesisBlock.header) : undefined
  }

  async start(): Promise<void> {
    const { chain, pool } = this.modules
    if (this.running) return
    this.running = true
    const state = await this.dagState()
    if (chain.head.header.number > 0n && !state.dag.has(hashFromBytes(chain.head.hash()))) {
      throw new CairnError(
        GhostdagErrorCode.DATA_INCONSISTENCY,
        'this GhostDAG node restarted on a stored chain: the DAG is kept in memory and is not rebuilt yet',
        { fault: 'caller', hint: 'start from an empty datadir (docs/consensus/ghostdag.md, "What is left")' },
      )
    }
    this.onBlockAdded.push(() => this.refreshSoon(0))
    this.unsubscribe.push(
      chain.events.on('newHead', ({ block }) => {
        this.chainMoved([block], [])
        this.refreshSoon(0)
      }),
      chain.events.on('reorg', ({ removed, newHead }) => {
        void newHead
        this.chainMoved([], removed)
      }),
      pool.events.on('added', () => {
        if (!this.miner) return
        const age = Date.now() - this.lastTemplateAt
        this.refreshSoon(Math.max(0, this.recommitMs - age))
      }),
    )
    if (this.opts.mine) {
      if (!this.opts.coinbase) {
        throw new CairnError(GhostdagErrorCode.INVALID_DAG, 'mining needs a coinbase: the address the blocks pay', {
          fault: 'caller',
          hint: 'set --miner.coinbase 0x… (config miner.coinbase)',
        })
      }
      this.miner = new MinerPool(
        {
          threads: this.opts.threads ?? 1,
          seal: this.params.pow.seal,
          ...(this.opts.minerWorker ? { worker: this.opts.minerWorker } : {}),
        },
        { logger: this.logger, onFound: (id, seal) => void this.found(id, seal) },
      )
      this.logger.info(
        { threads: this.opts.threads ?? 1, coinbase: bytesToHex(this.opts.coinbase) },
        'GhostDAG mining started',
      )
      this.refreshSoon(0)
    }
  }

  async stop(): Promise<void> {
    this.running = false
    clearTimeout(this.refreshTimer)
    for (const off of this.unsubscribe.splice(0)) off()
    await this.miner?.close()
    this.miner = undefined
    await this.queue.catch(() => {})
    this.ownFollower?.stop()
    await this.attached?.follower.settled()
  }

  followSync(syncing: () => boolean): void {
    this.syncing = syncing
    this.refreshSoon(0)
  }

  isMining(): boolean {
    return this.running && this.miner !== undefined
  }

  /** Feeds DagView and the per-miner rewards with the chain's moves. */
  private chainMoved(added: Block[], removed: Block[]): void {
    const state = this.dagNow()
    if (!state) return
    const acc = (b: Block): ChainBlockAcceptance<TypedTransaction> | undefined => {
      const hash = hashFromBytes(b.hash())
      const data = state.dag.get(hash)
      if (!data) return undefined
      const count = this.acceptedCount.get(hash) ?? 0
      const mergeset = [...data.mergesetBlues, ...data.mergesetReds]
      return {
        chainBlock: hash,
        mergeset,
        txs: b.transactions.slice(0, count).map((tx, index) => ({
          tx,
          block: (this.carriers.get(hash)?.[index]?.carrier ?? hash) as BlockHash,
          index,
          outcome: { applied: true },
        })),
      }
    }
    const rm = removed.map(acc).filter((a) => a !== undefined)
    const ad = added.map(acc).filter((a) => a !== undefined)
    if (rm.length === 0 && ad.length === 0) return
    const metrics = this.deps.metrics
    const reward = Number(this.blockReward) / 1e18
    const pay = (a: ChainBlockAcceptance<TypedTransaction>, sign: number) => {
      if (!metrics) return
      const data = state.dag.get(a.chainBlock)
      for (const b of [a.chainBlock, ...(data?.mergesetBlues.slice(1) ?? [])]) {
        const coinbase = this.coinbaseOf(b)
        if (coinbase) metrics.minerRewards.inc({ coinbase }, sign * reward)
      }
    }
    for (const a of rm) pay(a, -1)
    for (const a of ad) pay(a, 1)
    const first = ad[0] ?? rm[rm.length - 1]
    const common = first ? (state.dag.get(first.chainBlock)?.selectedParent ?? state.genesis) : state.genesis
    state.view.chainUpdated({ commonAncestor: common, removed: rm, added: ad })
  }

  async dagInfo(): Promise<DagInfo> {
    return (await this.dagState()).view.info()
  }

  async blockDagData(hash: BlockHash) {
    const data = (await this.dagState()).view.blockData(hash.toLowerCase() as BlockHash)
    if (!data) return undefined
    const acceptedTransactions = (this.carriers.get(data.hash) ?? []).map((c) => ({ hash: c.tx, carriedBy: c.carrier }))
    return { ...data, acceptedTransactions }
  }

  /** The fields of a block on `parent` with no extra parents (gas estimates, `pending`). */
  nextBlockEnv(parent: Block): BuildHeader {
    return this.envOn(parent, [])
  }

  private envOn(parent: Block, extraParents: BlockHash[]): BuildHeader {
    const sp = hashFromBytes(parent.hash())
    let parentMs: bigint
    try {
      parentMs = this.timeMsOf(sp)
    } catch {
      parentMs = parent.header.timestamp * 1000n
    }
    const now = BigInt(this.nowMs())
    const ms = now > parentMs ? now : parentMs
    let target: bigint
    try {
      target = this.dagNow()?.difficulty.nextTarget(sp) ?? this.params.pow.asert.powLimit
    } catch {
      target = this.params.pow.asert.powLimit
    }
    return {
      timestamp: ms / 1000n,
      coinbase: this.opts.coinbase ?? new Uint8Array(20),
      gasLimit: parent.header.gasLimit,
      extraData: encodeDagHeaderExtra({ millis: Number(ms % 1000n), extraParents }),
      difficulty: workOf(target),
      mixHash: new Uint8Array(32),
      nonce: new Uint8Array(8),
    }
  }

  /** The parents of the next template: the sink and the other executed tips, by blue work. */
  private async templateParents(): Promise<{ parent: Block; parents: BlockHash[] } | undefined> {
    const { chain } = this.modules
    const state = await this.dagState()
    const dag = state.dag
    const head = hashFromBytes(chain.head.hash())
    if (!dag.has(head)) return undefined
    const tips = state.view
      .info()
      .tips.filter(
        (t) => t !== head && dag.has(t) && this.acceptedCount.has(t) && !dag.reachability.isDagAncestorOf(head, t),
      )
    const candidates = [head, ...tips]
    const sp = dag.ghostdag.findSelectedParent(candidates)
    const rest = candidates
      .filter((t) => t !== sp)
      .sort((a, b) => {
        const [wa, wb] = [dag.get(a)!.blueWork, dag.get(b)!.blueWork]
        return wa === wb ? (a < b ? 1 : -1) : wa < wb ? 1 : -1
      })
      .slice(0, this.params.maxParents - 1)
    let parents = [sp, ...rest]
    for (;;) {
      const data = dag.ghostdag.ghostdag(parents)
      if (data.mergesetBlues.length + data.mergesetReds.length <= this.params.mergesetSizeLimit || parents.length === 1)
        break
      parents = parents.slice(0, -1)
    }
    const parent = sp === head ? chain.head : await chain.getBlock(Uint8Array.from(Buffer.from(sp.slice(2), 'hex')))
    if (!parent) return undefined
    return { parent, parents }
  }

  async propose(parent: ParentBlock): Promise<BuildResult> {
    const { chain, pool } = this.modules
    const p = 'writes' in parent ? parent.block : parent
    const env = this.nextBlockEnv(p)
    return chain.build(parent, env, this.sourceOf(await pool.blockSource(p.header.calcNextBaseFee())))
  }

  /** The accepted prefix (derived in `beginBlock`, before the first transaction is drawn), then the pool. */
  private sourceOf(pool: BlockTxSource): BlockTxSource {
    let accepted: Carried[] | undefined
    let i = 0
    const prefix = () => {
      accepted ??= this.derived?.accepted ?? []
      return accepted
    }
    return {
      peek: (): TypedTransaction | undefined => (i < prefix().length ? prefix()[i]!.tx : pool.peek()),
      shift: () => {
        if (i < prefix().length) i++
        else pool.shift()
      },
      pop: () => {
        if (i < prefix().length) i++
        else pool.pop()
      },
    }
  }

  async commit(proposal: ExecutedBlock): Promise<ImportResult> {
    const { chain, follower } = this.modules
    const result = await chain.committer.commit(proposal)
    await follower.settled()
    return result
  }

  private refreshSoon(ms: number): void {
    if (!this.running || !this.miner) return
    if (this.refreshTimer !== undefined && ms > 0) return
    clearTimeout(this.refreshTimer)
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined
      void this.refresh().catch((err) => this.logger.warn({ err }, 'could not build a GhostDAG template'))
    }, ms)
    this.refreshTimer.unref?.()
  }

  private refresh(): Promise<void> {
    const run = this.queue.then(async () => {
      if (!this.running || !this.miner) return
      if (this.syncing()) {
        this.miner.idle()
        this.refreshSoon(1000)
        return
      }
      const picked = await this.templateParents()
      if (!picked) return
      const { chain, pool } = this.modules
      const env = this.envOn(picked.parent, picked.parents.slice(1))
      const source = this.sourceOf(await pool.blockSource(picked.parent.header.calcNextBaseFee()))
      const built = await chain.build(picked.parent, env, source)
      const accepted = this.lastBuilt ?? []
      this.lastBuilt = undefined
      const ownRejected = built.rejected.filter((r) => !accepted.some((c) => c.tx === r.tx)).map((r) => r.tx)
      if (ownRejected.length > 0) pool.discard(ownRejected)
      const target = (await this.dagState()).difficulty.nextTarget(picked.parents[0]!)
      const t: Template = { built, sealHash: sealHash(built.block.header), target, accepted, sealed: false }
      this.lastTemplateAt = Date.now()
      const id = this.miner.mine(t.sealHash, t.target)
      this.jobs.set(id, t)
      for (const k of this.jobs.keys()) if (this.jobs.size > 16) this.jobs.delete(k)
      this.logger.debug(
        {
          number: Number(built.block.header.number),
          parents: picked.parents.length,
          txs: built.block.transactions.length,
        },
        'new GhostDAG template',
      )
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  private async found(id: number, seal: Seal): Promise<void> {
    const t = this.jobs.get(id)
    if (!t || t.sealed) return
    t.sealed = true
    try {
      const header = withDagSeal(t.built.block.header, seal)
      const unsealed = t.built.block
      const block = new Block(header, unsealed.transactions, [], unsealed.withdrawals, { common: header.common })
      const hash = hashFromBytes(block.hash())
      this.addToDag(header)
      // Known as executed (a template may merge it) only once stored.
      this.carriers.set(
        hash,
        t.accepted.map((c) => ({ tx: bytesToHex(c.tx.hash()), carrier: c.carrier })),
      )
      const result = await this.commit({ ...t.built, block })
      this.acceptedCount.set(hash, t.accepted.length)
      if (result.status !== 'head') for (const f of this.announceListeners) f(block)
      this.logger.info(
        {
          number: Number(header.number),
          hash,
          parents: this.parentsOf(header).length,
          txs: block.transactions.length,
          status: result.status,
        },
        'sealed a DAG block',
      )
    } catch (err) {
      this.logger.warn({ err }, 'a sealed DAG block was not committed')
    }
  }
}

/**
 * `header` with `seal` in its `mixHash` and `nonce` (PoW's `withSeal`, without Ethereum's 32-byte
 * extra-data check: a DAG header's extra data holds its parents).
 */
function withDagSeal(header: BlockHeader, seal: Seal): BlockHeader {
  const raw = header.raw()
  raw[13] = seal.mixHash
  raw[14] = seal.nonce
  return createBlockHeaderFromBytesArray(raw, { common: header.common, skipConsensusFormatValidation: true })
}
