/**
 * The proof-of-work engine (`engine = "pow"`): the rules of {@link PowRules} plus a producer. It
 * builds a block template on the head from the pool — the chain parameters' ASERT target as its
 * `difficulty`, zero `mixHash`/`nonce`, the coinbase — and seals it: on its own threads
 * (`--mine --miner.threads N`, {@link MinerPool}) and for external miners through the work API
 * (`eth_getWork`/`eth_submitWork`, {@link PowEngine.getWork}). A seal goes into `mixHash`/`nonce`
 * (execution does not read them on a proof-of-work ruleset, so the template's execution is the
 * block's) and the block is committed through the chain's one commit path. The template is rebuilt
 * when the head moves and, at most every `recommitMs`, when the pool changes. The block reward is
 * the chain parameter `blockReward` (default 2 ether, the proof-of-work ruleset's since
 * Constantinople; the chain credits it: `ChainEngine.blockReward`); the priority fees go to the
 * coinbase too (EIP-1559's base fee is burned). The engine mines nothing while the node syncs
 * ({@link PowEngine.followSync}) or past the chain's transition height.
 */
import type { BuildHeader, BuildResult, Chain, ExecutedBlock, ImportResult, ParentBlock } from '@cairn/chain'
import type { ChainFollower, TxPool } from '@cairn/txpool'
import { followChain } from '@cairn/txpool'
import { bytesToHex, CairnError, equalsBytes, type Logger, toQuantity } from '@cairn/utils'
import { Block } from '@ethereumjs/block'
import type { Engine, EngineCapabilities } from '../engine.ts'
import { nextAsertTarget } from './asert.ts'
import { PowErrorCode } from './errors.ts'
import { MinerPool } from './miner-pool.ts'
import { genesisAnchor } from './params.ts'
import { type PowMetrics, reorgDepthBucket } from './pow-metrics.ts'
import { PowRules, type PowRulesModules, type PowRulesOptions } from './pow-rules.ts'
import { type Seal, sealHash, withSeal } from './seal.ts'
import { sealSeedHash } from './seed-hash.ts'
import { workOf } from './work.ts'
import type { WorkApi } from './work-api.ts'

/** How often a template is rebuilt for new transactions at most (geth's recommit: 2 s). */
export const DEFAULT_RECOMMIT_MS = 2000
/** Templates remembered for `eth_submitWork` (older ones answer "unknown work"). */
const KEPT_TEMPLATES = 64
/** How long an external miner's `eth_submitHashrate` counts, ms (geth: 10 s). */
const HASHRATE_TTL_MS = 10_000
/** While the node syncs, whether it still does is looked at again this often, ms. */
const SYNC_RECHECK_MS = 1000
/** `engineData` key of the branches an operator accepted past the reorg limit (hashes, 32 bytes each). */
const ACCEPTED_KEY = 'pow/accepted-branches'

export interface PowEngineOptions extends PowRulesOptions {
  /** Mine on this node's own threads (`--mine`). */
  mine?: boolean
  /** Mining threads (`--miner.threads`, default 1). */
  threads?: number
  /** Who the blocks this node seals pay (`--miner.coinbase`); required to mine or hand out work. */
  coinbase?: Uint8Array
  /** Extra data of the blocks this node seals (at most 32 bytes). */
  extraData?: Uint8Array
  /** Rebuild the template for new transactions at most this often, ms (default 2000). */
  recommitMs?: number
  /** The mining threads' entry (a bundle's build of mine-worker.ts); default MinerPool's. */
  minerWorker?: URL
}

export interface PowEngineModules extends PowRulesModules {
  metrics?: PowMetrics | null
  /** Milliseconds since the epoch (templates' age, hash-rate expiry); default Date.now. */
  clockMs?: () => number
}

/** A block template handed to miners: the built block (unsealed), its seal hash and target. */
interface Template {
  built: BuildResult
  sealHash: Uint8Array
  target: bigint
  parentHash: Uint8Array
  at: number
  sealed: boolean
}

/** What `eth_getWork` answers: [seal hash, seed hash, boundary, block number]. */
export type WorkPackage = [string, string, string, string]

export class PowEngine extends PowRules implements Engine, WorkApi {
  /** Heads announced on the blocks topic; runs on every node (the work API serves without --mine). */
  readonly capabilities: EngineCapabilities = {
    announcesHeads: true,
    alwaysRuns: true,
    work: this,
    headWork: () => this.headTotalWork(),
    waitsForSync: this,
  }
  private attached: { chain: Chain; pool: TxPool; follower: ChainFollower } | undefined
  private ownFollower: ChainFollower | undefined
  private running = false
  private miner: MinerPool | undefined
  private readonly templates = new Map<string, Template>()
  private readonly jobs = new Map<number, Template>()
  private current: Template | undefined
  private poolDirty = false
  private queue: Promise<unknown> = Promise.resolve()
  private refreshTimer: ReturnType<typeof setTimeout> | undefined
  private readonly unsubscribe: (() => void)[] = []
  private readonly externalRates = new Map<string, { rate: bigint; at: number }>()
  /** The head's total work, refreshed as the head moves (the network's status carries it). */
  private headWork: { hash: string; work: bigint } | undefined
  /** Whether the node is still catching up with its peers ({@link followSync}); no work meanwhile. */
  private syncing: () => boolean = () => false
  private pausedForSync = false
  private endLogged = false
  private readonly coinbaseHex: string | undefined
  private readonly recommitMs: number

  constructor(
    readonly opts: PowEngineOptions,
    protected override readonly deps: PowEngineModules,
  ) {
    super(opts, deps)
    this.recommitMs = opts.recommitMs ?? DEFAULT_RECOMMIT_MS
    this.coinbaseHex = opts.coinbase ? bytesToHex(opts.coinbase) : undefined
    if (opts.extraData && opts.extraData.length > 32) {
      throw new CairnError(PowErrorCode.INVALID_PARAMS, 'miner extra data is at most 32 bytes', { fault: 'caller' })
    }
  }

  attach(modules: { chain: Chain; pool: TxPool; follower?: ChainFollower }): void {
    this.ownFollower?.stop()
    this.ownFollower = modules.follower
      ? undefined
      : followChain(modules.pool, modules.chain.events, { logger: this.deps.logger })
    this.attached = {
      chain: modules.chain,
      pool: modules.pool,
      follower: modules.follower ?? (this.ownFollower as ChainFollower),
    }
    this.reader = modules.chain
  }

  private get modules(): { chain: Chain; pool: TxPool; follower: ChainFollower } {
    if (!this.attached) {
      throw new CairnError(PowErrorCode.NO_WORK, 'the proof-of-work engine was not attached to a chain and a pool', {
        fault: 'internal',
        hint: 'call engine.attach({ chain, pool }) after opening the chain with the engine',
      })
    }
    return this.attached
  }

  private get logger(): Logger {
    return this.deps.logger
  }

  private nowMs(): number {
    return this.deps.clockMs ? this.deps.clockMs() : Date.now()
  }

  async start(): Promise<void> {
    const { chain, pool } = this.modules
    if (this.running) return
    this.running = true
    for (const hash of await this.loadAccepted()) this.accepted.add(hash)
    this.unsubscribe.push(
      chain.events.on('newHead', ({ block }) => {
        this.observeHead(block)
        void this.refreshHeadWork()
        void this.sidePruner
          .prune(chain, block.header.number)
          .catch((err) => this.logger.warn({ err }, 'could not prune side blocks'))
        if (equalsBytes(block.hash(), chain.head.hash())) this.refreshSoon(0)
      }),
      chain.events.on('reorg', ({ removed }) => {
        this.deps.metrics?.reorgs.inc({ depth: reorgDepthBucket(removed.length) })
        for (const b of removed) this.sidePruner.note(b.hash(), b.header.number, b.header.parentHash)
      }),
      pool.events.on('added', () => {
        this.poolDirty = true
        if (!this.miner) return
        const age = this.current ? this.nowMs() - this.current.at : this.recommitMs
        this.refreshSoon(Math.max(0, this.recommitMs - age))
      }),
    )
    this.observeHead(chain.head)
    await this.refreshHeadWork()
    if (this.opts.mine) {
      if (!this.opts.coinbase) {
        throw new CairnError(PowErrorCode.NO_WORK, 'mining needs a coinbase: the address the blocks pay', {
          fault: 'caller',
          hint: 'set --miner.coinbase 0x… (config miner.coinbase)',
        })
      }
      const threads = this.opts.threads ?? 1
      this.miner = new MinerPool(
        { threads, seal: this.params.seal, ...(this.opts.minerWorker ? { worker: this.opts.minerWorker } : {}) },
        {
          logger: this.logger,
          onFound: (id, seal) => void this.foundLocally(id, seal),
          onHashes: (n) => {
            this.deps.metrics?.hashes.inc(n)
            this.deps.metrics?.hashRate.set({ source: 'local' }, this.miner?.hashRate() ?? 0)
          },
        },
      )
      this.logger.info({ threads, coinbase: this.coinbaseHex }, 'proof-of-work mining started')
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

  /**
   * The canonical head's total work, as last computed (undefined before {@link start}): what the
   * network's status says and range sync compares with its peers' (heaviest, not highest).
   */
  headTotalWork(): bigint | undefined {
    return this.headWork?.work
  }

  private async refreshHeadWork(): Promise<void> {
    const { chain } = this.modules
    const head = chain.head
    try {
      const work = await this.totalWork.of(head.header, chain)
      // Only if the head did not move meanwhile (a later refresh has its own).
      if (chain.head === head) this.headWork = { hash: bytesToHex(head.hash()), work }
    } catch (err) {
      this.logger.warn({ err }, 'could not compute the head’s total work')
    }
  }

  /**
   * Mines (and hands out work) only when `syncing()` is false: a node catching up with its peers
   * would seal blocks on an old head, stale at once (geth's miner waits for its downloader too).
   * The node calls this once its network is up; until then (and with no network) it mines.
   */
  followSync(syncing: () => boolean): void {
    this.syncing = syncing
    this.refreshSoon(0)
  }

  /** `eth_getWork` past the transition height. */
  private ended(): CairnError {
    const t = this.params.transition
    return new CairnError(
      PowErrorCode.AFTER_TRANSITION,
      `proof of work ended: the chain runs ${t?.engine} from block ${t?.height}`,
      {
        fault: 'caller',
        hint: 'stop this miner: blocks are no longer mined',
        meta: { data: { code: PowErrorCode.AFTER_TRANSITION } },
      },
    )
  }

  /** Whether work waits for a sync; pauses this node's threads (once) and looks again later. */
  private waitingForSync(): boolean {
    if (!this.syncing()) {
      if (this.pausedForSync) {
        this.pausedForSync = false
        this.logger.info({ head: Number(this.modules.chain.head.header.number) }, 'synced: mining resumes')
      }
      return false
    }
    if (!this.pausedForSync) {
      this.pausedForSync = true
      this.miner?.idle()
      this.current = undefined
      this.logger.info('mining waits: the node is syncing with its peers')
    }
    this.refreshSoon(SYNC_RECHECK_MS)
    return true
  }

  /** Whether this node's own threads mine (`eth_mining`). */
  isMining(): boolean {
    return this.running && this.miner !== undefined
  }

  /** The fields this engine chooses for a block on `parent` now. */
  nextBlockEnv(parent: Block): BuildHeader {
    const target = this.targetOn(parent)
    const now = BigInt(Math.floor(this.nowSeconds()))
    const timestamp = now > parent.header.timestamp ? now : parent.header.timestamp + 1n
    return {
      timestamp,
      coinbase: this.opts.coinbase ?? new Uint8Array(20),
      gasLimit: parent.header.gasLimit,
      extraData: this.opts.extraData ?? new Uint8Array(),
      difficulty: workOf(target),
      mixHash: new Uint8Array(32),
      nonce: new Uint8Array(8),
    }
  }

  /** The ASERT target of the block after `parent` (anchored at the genesis). */
  targetOn(parent: Block): bigint {
    const { chain } = this.modules
    const anchor = genesisAnchor(this.params, chain.genesisBlock.header)
    return nextAsertTarget(anchor, { height: parent.header.number, time: parent.header.timestamp }, this.params.asert)
  }

  /** Builds an unsealed block on `parent` from the pool (not committed). */
  async propose(parent: ParentBlock): Promise<BuildResult> {
    const { chain, pool } = this.modules
    const parentBlock = 'writes' in parent ? parent.block : parent
    const env = this.nextBlockEnv(parentBlock)
    const built = await chain.build(parent, env, await pool.blockSource(parentBlock.header.calcNextBaseFee()))
    if (built.rejected.length > 0) pool.discard(built.rejected.map((r) => r.tx))
    return built
  }

  /** Commits a sealed block; resolves once the pool has taken in the new head. */
  async commit(proposal: ExecutedBlock): Promise<ImportResult> {
    const { chain, follower } = this.modules
    const result = await chain.committer.commit(proposal)
    await follower.settled()
    return result
  }

  // ---- The work API (eth_getWork, eth_submitWork, eth_submitHashrate, eth_hashrate) ----

  /**
   * `eth_getWork`: [seal hash, seed hash, boundary, number] of the current template on the head
   * (rebuilt when the head moved, or when transactions arrived and it is older than `recommitMs`).
   * The boundary is the target as 32 bytes (a seal's `mixHash`, read as a number, must not exceed
   * it); the seed hash carries the seal's parameters ({@link sealSeedHash}).
   */
  async getWork(): Promise<WorkPackage> {
    if (!this.opts.coinbase) {
      throw new CairnError(PowErrorCode.NO_WORK, 'no coinbase to mine for: this node hands out no work', {
        fault: 'caller',
        hint: 'start the node with --miner.coinbase 0x… (config miner.coinbase)',
      })
    }
    if (this.afterTransition(this.modules.chain.head.header.number + 1n)) throw this.ended()
    if (this.running && this.waitingForSync()) {
      throw new CairnError(PowErrorCode.NO_WORK, 'the node is syncing: no work until it has caught up', {
        fault: 'transient',
        hint: 'ask again once eth_syncing answers false',
      })
    }
    const { chain } = this.modules
    let t = this.current
    const stale = !t || !equalsBytes(t.parentHash, chain.head.hash())
    if (stale || (this.poolDirty && t !== undefined && this.nowMs() - t.at >= this.recommitMs)) {
      t = await this.refresh()
    }
    if (!t) throw new CairnError(PowErrorCode.NO_WORK, 'no work available yet', { fault: 'transient' })
    const header = t.built.block.header
    return [
      bytesToHex(t.sealHash),
      bytesToHex(sealSeedHash(this.params.seal)),
      `0x${t.target.toString(16).padStart(64, '0')}`,
      toQuantity(header.number),
    ]
  }

  /**
   * `eth_submitWork(nonce, sealHash, mixDigest)`: seals the template `sealHash` names and commits
   * it. True once committed; refused with its own code otherwise: work never handed out
   * (`CONSENSUS_POW_UNKNOWN_WORK`), work on a head that moved (`CONSENSUS_POW_STALE_WORK`), a
   * `mixDigest` above the target (`CONSENSUS_POW_INSUFFICIENT_WORK`) or not the proof
   * (`CONSENSUS_POW_INVALID_SEAL`). Nothing is written on a refusal.
   */
  async submitWork(nonce: Uint8Array, hash: Uint8Array, mixDigest: Uint8Array): Promise<boolean> {
    const metrics = this.deps.metrics
    const t = this.templates.get(bytesToHex(hash))
    if (!t) {
      metrics?.rejectedWork.inc({ reason: 'unknown' })
      throw new CairnError(PowErrorCode.UNKNOWN_WORK, `no work ${bytesToHex(hash)} was handed out by this node`, {
        fault: 'caller',
        hint: 'call eth_getWork for the current work',
        meta: { data: { code: PowErrorCode.UNKNOWN_WORK } },
      })
    }
    await this.submitSealed(t, { nonce, mixHash: mixDigest }, 'external')
    return true
  }

  /** `eth_submitHashrate(rate, id)`: an external miner's rate, counted for 10 s. */
  submitHashrate(rate: bigint, id: Uint8Array): boolean {
    this.externalRates.set(bytesToHex(id), { rate, at: this.nowMs() })
    this.deps.metrics?.hashRate.set({ source: 'external' }, Number(this.externalHashRate()))
    return true
  }

  /** `eth_hashrate`: this node's threads' attempts per second plus what external miners reported. */
  hashRate(): bigint {
    const local = BigInt(Math.round(this.miner?.hashRate(this.nowMs()) ?? 0))
    return local + this.externalHashRate()
  }

  /** The coinbase this node mines for, if any. */
  coinbase(): Uint8Array | undefined {
    return this.opts.coinbase
  }

  /**
   * Accepts the branch through `hash` past the reorg limit (see {@link PowRules.acceptBranch}),
   * remembered across restarts.
   */
  override async acceptBranch(hash: Uint8Array): Promise<{ number: bigint; canonical: boolean }> {
    const out = await super.acceptBranch(hash)
    const { chain } = this.modules
    const kept = [...this.accepted].slice(-32)
    await chain.engineData.put(ACCEPTED_KEY, concat(kept.map((h) => hexBytes(h))))
    return out
  }

  private externalHashRate(): bigint {
    const now = this.nowMs()
    let sum = 0n
    for (const [id, r] of this.externalRates) {
      if (now - r.at > HASHRATE_TTL_MS) this.externalRates.delete(id)
      else sum += r.rate
    }
    return sum
  }

  private async loadAccepted(): Promise<string[]> {
    const bytes = await this.modules.chain.engineData.get(ACCEPTED_KEY)
    const out: string[] = []
    if (!bytes) return out
    for (let i = 0; i + 32 <= bytes.length; i += 32) out.push(bytesToHex(bytes.subarray(i, i + 32)))
    return out
  }

  private observeHead(block: Block): void {
    const m = this.deps.metrics
    if (!m || block.header.difficulty === 0n) return
    m.difficulty.set(Number(block.header.difficulty))
    m.targetBits.set(Math.log2(Number(block.header.difficulty)))
  }

  /** Rebuilds the template after `ms` (one pending rebuild at a time; the earliest wins). */
  private refreshSoon(ms: number): void {
    if (!this.running) return
    if (this.refreshTimer !== undefined && ms > 0) return
    clearTimeout(this.refreshTimer)
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined
      void this.refresh().catch((err) => this.logger.error({ err }, 'could not build a block template'))
    }, ms)
    this.refreshTimer.unref?.()
  }

  /** Builds a template on the head and hands it to this node's threads, one build at a time. */
  private refresh(): Promise<Template | undefined> {
    const run = this.queue.then(async () => {
      if (!this.running || this.waitingForSync()) return undefined
      const { chain } = this.modules
      const head = chain.head
      if (this.afterTransition(head.header.number + 1n)) {
        this.miner?.idle()
        this.current = undefined
        if (!this.endLogged) {
          this.endLogged = true
          this.logger.info(
            { last: Number(head.header.number), engine: this.params.transition?.engine },
            'proof of work ended at the transition height: nothing more to mine',
          )
        }
        return undefined
      }
      if (this.current && equalsBytes(this.current.parentHash, head.hash()) && !this.poolDirty) return this.current
      this.poolDirty = false
      const built = await this.propose(head)
      const t: Template = {
        built,
        sealHash: sealHash(built.block.header),
        target: this.targetOn(head),
        parentHash: head.hash(),
        at: this.nowMs(),
        sealed: false,
      }
      this.keep(t)
      if (this.miner) {
        const id = this.miner.mine(t.sealHash, t.target)
        this.jobs.set(id, t)
        for (const k of this.jobs.keys()) if (this.jobs.size > KEPT_TEMPLATES) this.jobs.delete(k)
      }
      this.logger.debug(
        {
          number: Number(built.block.header.number),
          txs: built.block.transactions.length,
          sealHash: bytesToHex(t.sealHash),
        },
        'new mining work',
      )
      return t
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  private keep(t: Template): void {
    this.current = t
    this.templates.set(bytesToHex(t.sealHash), t)
    for (const k of this.templates.keys()) {
      if (this.templates.size <= KEPT_TEMPLATES) break
      this.templates.delete(k)
    }
  }

  private async foundLocally(id: number, seal: Seal): Promise<void> {
    const t = this.jobs.get(id)
    if (!t || t.sealed) return
    try {
      await this.submitSealed(t, seal, 'local')
    } catch (err) {
      if ((err as CairnError).code !== PowErrorCode.STALE_WORK)
        this.logger.error({ err }, 'a locally found seal was refused')
    }
  }

  /** Seals template `t` with `seal` and commits it: refused when stale, above the target or not the proof. */
  private async submitSealed(t: Template, seal: Seal, source: 'local' | 'external'): Promise<ImportResult> {
    const { chain } = this.modules
    const metrics = this.deps.metrics
    if (t.sealed || !equalsBytes(t.parentHash, chain.head.hash())) {
      metrics?.staleWork.inc({ source })
      if (source === 'external') metrics?.rejectedWork.inc({ reason: 'stale' })
      throw new CairnError(
        PowErrorCode.STALE_WORK,
        `work ${bytesToHex(t.sealHash)} is stale: block ${t.built.block.header.number - 1n} is no longer the head`,
        {
          fault: 'caller',
          hint: 'call eth_getWork for the current work',
          meta: { data: { code: PowErrorCode.STALE_WORK } },
        },
      )
    }
    const header = withSeal(t.built.block.header, seal)
    try {
      await this.checkSeal(header, t.target)
    } catch (err) {
      const code = (err as CairnError).code
      metrics?.rejectedWork.inc({
        reason: code === PowErrorCode.INSUFFICIENT_WORK ? 'insufficient_work' : 'invalid_seal',
      })
      if (!(err instanceof CairnError)) throw err
      throw new CairnError(err.code, err.message, { fault: 'caller', cause: err, meta: { data: { code } } })
    }
    t.sealed = true
    const unsealed = t.built.block
    const block = new Block(header, unsealed.transactions, [], unsealed.withdrawals, { common: header.common })
    const result = await this.commit({ ...t.built, block })
    this.sidePruner.note(block.hash(), header.number, header.parentHash)
    if (result.status === 'head' || result.status === 'side') this.countReward(block, t.built)
    this.logger.info(
      {
        number: Number(header.number),
        hash: bytesToHex(block.hash()),
        txs: block.transactions.length,
        source,
        status: result.status,
      },
      'sealed a block',
    )
    return result
  }

  private countReward(block: Block, built: BuildResult): void {
    const metrics = this.deps.metrics
    if (!metrics) return
    const coinbase = bytesToHex(block.header.coinbase.bytes)
    const baseFee = block.header.baseFeePerGas ?? 0n
    let fees = 0n
    let prev = 0n
    built.receipts.forEach((r, i) => {
      const gas = r.cumulativeGasUsed - prev
      prev = r.cumulativeGasUsed
      const tx = block.transactions[i]
      if (tx) fees += gas * tx.getEffectivePriorityFee(baseFee)
    })
    const reward = this.blockReward + fees
    metrics.blocksMined.inc({ coinbase })
    metrics.rewards.inc({ coinbase }, Number(reward) / 1e18)
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))
}
