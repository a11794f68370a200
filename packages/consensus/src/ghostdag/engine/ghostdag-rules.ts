/**
 * The GhostDAG chain's rules, as the import pipeline sees them (`ChainEngine`), on the
 * proof-of-work seal and targets of `../../pow`. Every DAG block is a plain Ethereum block:
 * `parentHash` is its selected parent, its other parents and the milliseconds of its time are in
 * `extraData` (`header-extra.ts`), and it executes on its selected parent's state like any block
 * (a block off the virtual chain is a side block, stored beside the chain). A header passes when:
 * its extra data has the DAG format; every parent is in this node's DAG; at most `maxParents`
 * parents, no parent in another's past; `parentHash` is the selected parent (highest blue work);
 * the mergeset is within `mergesetSizeLimit`; its time is not before its selected parent's nor
 * ahead of the clock; its `difficulty` is the work of the DAG's ASERT target on its selected
 * parent and its seal the proof (PoW's `verifySeal`). It then joins the DAG (headers first, as
 * Kaspa). Fork choice is the highest blue work (ties by hash): the head is the sink, and a change
 * of it is the chain's ordinary reorg.
 *
 * Execution (Option 2, docs/consensus/ghostdag.md): `beginBlock` derives the transactions the
 * block accepts from its mergeset (`accepted-txs.ts`); `endBlock` checks that the body starts with
 * exactly those (an importer) and pays the block reward to the coinbase of every blue block the
 * block merges (the block's own reward is the chain's `blockReward`; reds earn nothing; fees go to
 * the executing block's coinbase). How many of a block's transactions it accepted is derived at
 * import and kept per block (`acceptedCount`): the rest are its own new ones, what a later merging
 * block accepts from it.
 */
import type { BlockHookContext, BlockReader, ChainEngine, EndBlockContext, HeaderContext } from '@cairn/chain'
import { bytesToHex, CairnError, type Logger } from '@cairn/utils'
import type { BlockHeader } from '@ethereumjs/block'
import { Account, type Address, createAddressFromString } from '@ethereumjs/util'
import { DEFAULT_BLOCK_REWARD } from '../../pow/params.ts'
import { checkDifficulty, verifySeal } from '../../pow/seal.ts'
import { BlockDag } from '../dag.ts'
import { checkSelectedParent } from '../dag-header.ts'
import { DagView } from '../dag-view.ts'
import { DagDifficulty } from '../difficulty.ts'
import { GhostdagErrorCode } from '../errors.ts'
import type { GhostdagMetrics } from '../ghostdag-metrics.ts'
import { type BlockHash, hashFromBytes } from '../hash.ts'
import { compareSortable } from '../ordering.ts'
import { MemoryReachabilityStore } from '../reachability/store.ts'
import { type GhostdagData, MemoryDagStore } from '../store.ts'
import { consensusOrderedMergeset } from '../virtual-chain.ts'
import { type Carried, type DerivationHeader, derivationHeaderOf, deriveAccepted } from './accepted-txs.ts'
import { decodeDagHeaderExtra } from './header-extra.ts'
import type { GhostdagChainParams } from './params.ts'

/** How far ahead of the local clock a header's time may be, ms. */
export const DEFAULT_MAX_FUTURE_MS = 15_000
const VERIFIED_SEALS = 8192

export interface GhostdagRulesOptions {
  params: GhostdagChainParams
  maxFutureMs?: number
}

export interface GhostdagRulesModules {
  logger: Logger
  metrics?: GhostdagMetrics | null
  /** Milliseconds since the epoch (default Date.now). */
  clockMs?: () => number
}

/** The DAG state of a node: built once the genesis is known. */
interface DagState {
  dag: BlockDag
  store: MemoryDagStore
  difficulty: DagDifficulty
  view: DagView
  genesis: BlockHash
}

export class GhostdagRules implements ChainEngine {
  readonly name: string = 'ghostdag'
  readonly sealsProofOfWork = true
  readonly dagHeaders = true
  readonly params: GhostdagChainParams
  protected reader: BlockReader | undefined
  #state: DagState | undefined
  readonly #verified = new Set<string>()
  readonly #timeMs = new Map<BlockHash, bigint>()
  readonly #coinbase = new Map<BlockHash, string>()
  /** Per executed block: how many of its body's transactions it accepted from its mergeset. */
  protected readonly acceptedCount = new Map<BlockHash, number>()
  /** Per executed block: which DAG block carried each accepted transaction (by tx hash). */
  protected readonly carriers = new Map<BlockHash, { tx: string; carrier: BlockHash }[]>()
  /** The accepted prefix derived by the last `beginBlock` (the executor runs one block at a time). */
  protected derived: { key: string; accepted: Carried[]; data: GhostdagData } | undefined
  readonly #maxFutureMs: number
  /** Blocks added to the DAG, in order (listeners: the producer rebuilds its template). */
  protected readonly onBlockAdded: ((hash: BlockHash) => void)[] = []

  constructor(
    opts: GhostdagRulesOptions,
    protected readonly deps: GhostdagRulesModules,
  ) {
    this.params = opts.params
    this.#maxFutureMs = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS
  }

  get blockReward(): bigint {
    return this.params.pow.blockReward ?? DEFAULT_BLOCK_REWARD
  }

  protected nowMs(): number {
    return this.deps.clockMs ? this.deps.clockMs() : Date.now()
  }

  /** The DAG, built on the genesis the first time it is needed. */
  protected async dagState(reader: BlockReader | undefined = this.reader): Promise<DagState> {
    if (this.#state) return this.#state
    const genesisHash = await reader?.getCanonicalHash(0n)
    const header = genesisHash ? await reader?.getHeader(genesisHash) : undefined
    if (!header) {
      throw new CairnError(
        GhostdagErrorCode.DATA_INCONSISTENCY,
        'the GhostDAG rules have no chain to read the genesis from',
        {
          fault: 'internal',
        },
      )
    }
    return this.initDag(header)
  }

  /** Builds the DAG on `genesis` (synchronous: the first header check and the producer share it). */
  protected initDag(genesis: BlockHeader): DagState {
    if (this.#state) return this.#state
    const hash = hashFromBytes(genesis.hash())
    const store = new MemoryDagStore()
    const p = this.params
    const dag = new BlockDag(
      { k: p.k, genesis: hash, maxParents: p.maxParents, mergesetSizeLimit: p.mergesetSizeLimit },
      { store, reachability: new MemoryReachabilityStore() },
    )
    this.#timeMs.set(hash, genesis.timestamp * 1000n)
    this.#coinbase.set(hash, genesis.coinbase.toString())
    this.acceptedCount.set(hash, 0)
    const difficulty = new DagDifficulty(
      {
        targetBlockMs: p.targetBlockMs,
        halfLifeMs: p.halfLifeMs,
        powLimit: p.pow.asert.powLimit,
        anchor: { daaScore: 0n, parentTimeMs: genesis.timestamp * 1000n - p.targetBlockMs, bits: p.pow.genesisBits },
      },
      { ghostdag: store, timeMs: (h) => this.timeMsOf(h) },
    )
    const view = new DagView(
      {},
      { dag, relations: store, metrics: this.deps.metrics ?? null, daaScore: (h) => difficulty.daaScore(h) },
    )
    this.#state = { dag, store, difficulty, view, genesis: hash }
    return this.#state
  }

  protected timeMsOf(hash: BlockHash): bigint {
    const t = this.#timeMs.get(hash)
    if (t === undefined) throw new CairnError(GhostdagErrorCode.UNKNOWN_BLOCK, `no time known for ${hash}`)
    return t
  }

  /** The parents a header names: `parentHash` (the selected parent) first. */
  protected parentsOf(header: { parentHash: Uint8Array; extraData: Uint8Array }): BlockHash[] {
    const { extraParents } = decodeDagHeaderExtra(header.extraData)
    const selected = hashFromBytes(header.parentHash)
    if (extraParents.includes(selected)) {
      throw new CairnError(
        GhostdagErrorCode.INVALID_HEADER,
        `parent ${selected} is both parentHash and an extra parent`,
        {
          fault: 'caller',
        },
      )
    }
    return [selected, ...extraParents]
  }

  /** The ASERT target (on the DAA score, in ms) of a block whose selected parent is `selectedParent`. */
  async targetAfter(selectedParent: BlockHash): Promise<bigint> {
    return (await this.dagState()).difficulty.nextTarget(selectedParent)
  }

  async validateHeader(header: BlockHeader, parent: BlockHeader, ctx: HeaderContext): Promise<void> {
    this.reader ??= ctx.chain
    const state = await this.dagState(ctx.chain)
    const hash = hashFromBytes(header.hash())
    if (state.dag.has(hash)) return
    const { millis } = decodeDagHeaderExtra(header.extraData)
    const parents = this.parentsOf(header)
    const timeMs = header.timestamp * 1000n + BigInt(millis)
    if (timeMs > BigInt(this.nowMs() + this.#maxFutureMs)) {
      throw new CairnError(
        GhostdagErrorCode.INVALID_HEADER,
        `block ${header.number}: its time is more than ${this.#maxFutureMs} ms ahead of this node's clock`,
        { fault: 'transient', hint: "check this node's clock (NTP); the block may be valid later" },
      )
    }
    const missing = parents.filter((p) => !state.dag.has(p))
    if (missing.length > 0) {
      throw new CairnError(
        GhostdagErrorCode.UNKNOWN_BLOCK,
        `block ${header.number} ${hash}: parents not in this node's DAG yet: ${missing.join(', ')}`,
        { fault: 'transient', meta: { missingParents: missing } },
      )
    }
    if (parents.length > this.params.maxParents) {
      throw new CairnError(
        GhostdagErrorCode.INVALID_HEADER,
        `block ${header.number}: ${parents.length} parents, more than the ${this.params.maxParents} allowed`,
        { fault: 'caller' },
      )
    }
    if (timeMs < this.timeMsOf(parents[0]!)) {
      throw new CairnError(
        GhostdagErrorCode.INVALID_HEADER,
        `block ${header.number}: its time is before its selected parent's`,
        {
          fault: 'caller',
        },
      )
    }
    checkSelectedParent(state.dag.ghostdag, parents)
    const target = state.difficulty.nextTarget(parents[0]!)
    checkDifficulty(header, target)
    await this.checkSeal(header, target)
    this.addToDag(header, parents)
    void parent
  }

  /** Verifies a seal once (remembered by block hash). */
  async checkSeal(header: BlockHeader, target: bigint): Promise<void> {
    const key = bytesToHex(header.hash())
    if (this.#verified.has(key)) return
    await verifySeal(header, this.params.pow.seal, target)
    if (this.#verified.size >= VERIFIED_SEALS) {
      const oldest = this.#verified.values().next().value
      if (oldest !== undefined) this.#verified.delete(oldest)
    }
    this.#verified.add(key)
  }

  /** Adds a checked header to the DAG (idempotent); refuses an incestuous parent set or a mergeset above the limit. */
  protected addToDag(header: BlockHeader, parents: BlockHash[] = this.parentsOf(header)): GhostdagData {
    const state = this.#state as DagState
    const hash = hashFromBytes(header.hash())
    const known = state.dag.get(hash)
    if (known) return known
    const data = state.dag.addBlock(hash, parents, header.difficulty)
    const coinbase = header.coinbase.toString()
    this.#timeMs.set(hash, header.timestamp * 1000n + BigInt(decodeDagHeaderExtra(header.extraData).millis))
    this.#coinbase.set(hash, coinbase)
    state.view.blockAdded(hash)
    this.deps.metrics?.minerBlocks.inc({ coinbase })
    for (const f of this.onBlockAdded) f(hash)
    return data
  }

  /** Highest blue work wins, ties by the higher hash (the sink). */
  async preferHead(candidate: BlockHeader, current: BlockHeader): Promise<boolean> {
    const state = await this.dagState()
    const [c, h] = [hashFromBytes(candidate.hash()), hashFromBytes(current.hash())]
    const cd = state.dag.get(c)
    const hd = state.dag.get(h)
    if (!cd) return false
    if (!hd) return true
    return compareSortable({ hash: c, blueWork: cd.blueWork }, { hash: h, blueWork: hd.blueWork }) > 0
  }

  /** GhostDAG's data of a block being built or imported (not necessarily in the DAG yet). */
  protected async dataOf(header: BlockHookContext['header'], parent: BlockHeader): Promise<GhostdagData> {
    const state = await this.dagState()
    const parents = [hashFromBytes(parent.hash()), ...decodeDagHeaderExtra(header.extraData).extraParents]
    if ('hash' in header && typeof header.hash === 'function') {
      const known = state.dag.get(hashFromBytes(header.hash()))
      if (known) return known
    }
    return state.dag.ghostdag.ghostdag(parents)
  }

  /** The merged blocks' own new transactions, in consensus order (the candidates of the accepted prefix). */
  protected async candidatesOf(data: GhostdagData): Promise<Carried[]> {
    const state = await this.dagState()
    const reader = this.mustReader()
    const out: Carried[] = []
    for (const block of consensusOrderedMergeset(state.store, data).slice(1)) {
      const count = this.acceptedCount.get(block)
      // A block being committed may be indexed before it is readable: not executed yet, for now.
      const body =
        count === undefined
          ? undefined
          : await reader.getBlock(Uint8Array.from(Buffer.from(block.slice(2), 'hex'))).catch(() => undefined)
      if (count === undefined || !body) {
        throw new CairnError(
          GhostdagErrorCode.UNKNOWN_BLOCK,
          `merged block ${block} has not been executed on this node yet: its transactions are unknown`,
          { fault: 'transient', meta: { missingParents: [block] } },
        )
      }
      for (const tx of body.transactions.slice(count)) out.push({ tx, carrier: block })
    }
    return out
  }

  async beginBlock(ctx: BlockHookContext): Promise<void> {
    const parent = ctx.parent
    if (!parent) return
    const data = await this.dataOf(ctx.header, parent)
    const candidates = await this.candidatesOf(data)
    const h = ctx.header
    const header: DerivationHeader =
      'hash' in h && typeof h.hash === 'function'
        ? derivationHeaderOf(h as BlockHeader)
        : {
            number: h.number,
            timestamp: h.timestamp,
            coinbase: h.coinbase instanceof Uint8Array ? h.coinbase : (h.coinbase as Address).bytes,
            gasLimit: h.gasLimit,
            ...(h.baseFeePerGas !== undefined ? { baseFeePerGas: h.baseFeePerGas } : {}),
          }
    const accepted = await deriveAccepted(candidates, header, { vm: ctx.vm, state: ctx.state })
    this.derived = { key: derivationKey(header), accepted, data }
  }

  async endBlock(ctx: EndBlockContext): Promise<undefined> {
    const h = ctx.header
    const importing = 'hash' in h && typeof h.hash === 'function'
    const header = importing ? derivationHeaderOf(h as BlockHeader) : undefined
    const derived = this.derived
    this.derived = undefined
    if (!derived || (header && derived.key !== derivationKey(header))) {
      throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, 'endBlock without its beginBlock', {
        fault: 'internal',
      })
    }
    const accepted = derived.accepted
    for (let i = 0; i < accepted.length; i++) {
      const tx = ctx.txs[i]
      if (!tx || bytesToHex(tx.hash()) !== bytesToHex(accepted[i]!.tx.hash())) {
        throw new CairnError(
          GhostdagErrorCode.INVALID_HEADER,
          `block ${h.number}: transaction ${i} is not the one its mergeset gives (${bytesToHex(accepted[i]!.tx.hash())}): the body must start with the ${accepted.length} transactions it accepts`,
          { fault: importing ? 'caller' : 'internal' },
        )
      }
    }
    // Rewards: one block reward to the coinbase of every blue block merged (the selected parent
    // was paid by its own execution; reds earn nothing).
    const blues = derived.data.mergesetBlues.slice(1)
    for (const blue of blues) {
      const coinbase = this.#coinbase.get(blue)
      if (coinbase === undefined) continue
      const address = createAddressFromString(coinbase)
      const account = (await ctx.state.getAccount(address)) ?? new Account()
      account.balance += this.blockReward
      await ctx.state.putAccount(address, account)
    }
    if (importing) {
      const hash = hashFromBytes((h as BlockHeader).hash())
      this.acceptedCount.set(hash, accepted.length)
      this.carriers.set(
        hash,
        accepted.map((c) => ({ tx: bytesToHex(c.tx.hash()), carrier: c.carrier })),
      )
    } else {
      this.lastBuilt = accepted
    }
    return undefined
  }

  /** The accepted prefix of the last block built (the producer records it once the block is sealed). */
  protected lastBuilt: Carried[] | undefined

  protected mustReader(): BlockReader {
    if (!this.reader) {
      throw new CairnError(GhostdagErrorCode.DATA_INCONSISTENCY, 'the GhostDAG engine was not attached to a chain', {
        fault: 'internal',
      })
    }
    return this.reader
  }

  /** The coinbase (lowercase hex) of a DAG block. */
  coinbaseOf(hash: BlockHash): string | undefined {
    return this.#coinbase.get(hash)
  }
}

function derivationKey(h: DerivationHeader): string {
  return `${h.number}:${h.timestamp}:${bytesToHex(h.coinbase)}`
}
