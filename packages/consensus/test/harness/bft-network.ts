import { Chain, type ChainModules, devGenesis } from '@cairn/chain'
import { createCustomCrypto, initCrypto, keccak256, privateKeyToAddress } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { type ChainFollower, DEFAULT_TXPOOL_OPTIONS, followChain, TxPool } from '@cairn/txpool'
import { bytesToHex, type Logger, silentLogger } from '@cairn/utils'
import { ADDRS } from '../../../chain/test/helpers.ts'
import type { SignatureScheme } from '../../src/bft/pq/index.ts'
import {
  BftEngine,
  type BftMetrics,
  type BftTransport,
  type ConsensusSigner,
  ConsensusWal,
  MemorySignerState,
  MemoryWalStorage,
  resolveBftConfig,
  StakingHooks,
  stakingGenesisAlloc,
  stakingParamsWith,
  type ValidatorUpdateSource,
} from '../../src/index.ts'
import { ManualClock } from './clock.ts'

export interface BftNetworkOptions {
  validators: number
  /** Nodes without a key that follow the validators' messages. Default 0. */
  followers?: number
  /** Delivery delay (ms); default 20. */
  delayMs?: number
  /** A delivery delay per link and message instead (ms): a slow validator's messages, say. */
  linkDelayMs?: (from: number, to: number, data: Uint8Array) => number
  blockTimeMs?: number
  emptyBlocks?: boolean
  /** Share of deliveries lost, 0..1, from a seeded generator (default 0). */
  loss?: number
  seed?: number
  /** The engines' logger (silent by default). */
  logger?: Logger
  /** How many of the keyed nodes (the first ones) are in the genesis set; default all `validators`. */
  genesisValidators?: number
  /** Validator-set changes every engine's `endBlock` returns (deterministic: the same on every node). */
  validatorUpdates?: ValidatorUpdateSource
  /** Each node's metrics (default none). */
  metrics?: (index: number) => BftMetrics
  /** Node `index`'s next consensus keys (a key rotation it follows per height); undefined: none. */
  nextKeys?: (index: number) => Uint8Array[] | undefined
  /** Node `index`'s signer when not its key in process (a remote signer); undefined: its own key. */
  signer?: (index: number) => ConsensusSigner | undefined
  /**
   * Fields merged into the genesis's `config.cairn.bft` (e.g. `signatureScheme: 'hybrid'` with the
   * validators' `pqPublicKey`s): given the default list of validators, returns the overrides.
   */
  bft?: (validators: { address: string; power: number }[]) => Record<string, unknown>
  /** Node `index`'s store when it is first made (default a `MemoryKV`; e.g. a `SlowCommitKV`). */
  kv?: (index: number) => MemoryKV
  /** Sees every message a node publishes (before loss and silence). */
  onPublish?: (from: number, data: Uint8Array) => void
  /**
   * Proof of stake: the genesis validators bonded in the staking contract (`selfBond` each, the
   * devnet profile with `params` overrides) and every engine running `StakingHooks`.
   */
  /** The chain id (default 1337): networks of different chains (shards) sign different digests. */
  chainId?: bigint
  /** Edits the genesis before any node is made (a shard's `config.cairn.shard`, system accounts). */
  genesis?: (g: { config: Record<string, unknown>; alloc: Record<string, unknown> }) => void
  /** Every node's `ChainModules.extendVM` (a stateful precompile of the chain's rules). */
  extendVM?: ChainModules['extendVM']
  staking?: {
    selfBond?: bigint
    params?: string[]
    /** Node `index`'s hooks' options (skipped upgrades) and halt callback. */
    hooks?: (index: number) => { skipUpgrades?: string[]; onHalt?: (err: Error) => void }
  }
}

export interface BftNode {
  index: number
  key: Uint8Array | null
  kv: MemoryKV
  signerState: MemorySignerState | null
  /** The consensus WAL's storage (kept across restarts, as a file would be). */
  walStorage: MemoryWalStorage
  chain: Chain
  pool: TxPool
  engine: BftEngine
  follower: ChainFollower
}

/** The validator keys of the in-process network: keccak256("cairn-bft-test-" + i). */
export function validatorKey(i: number): Uint8Array {
  return keccak256(new TextEncoder().encode(`cairn-bft-test-${i}`))
}

/**
 * N BFT nodes in one process on an injected clock: each a chain on MemoryKV, a pool and a
 * `BftEngine`, their consensus topics joined by an in-memory transport with a delay and with
 * nodes that can be cut off ("silent": nothing in, nothing out). Deterministic: timers fire only
 * when the test runs the clock, and each turn runs every engine's queue to the end.
 */
export class BftNetwork {
  readonly clock = new ManualClock()
  readonly nodes: BftNode[] = []
  readonly silent = new Set<number>()
  /** Published messages this returns true for are dropped (e.g. one kind of message from one node). */
  dropIf: ((from: number, data: Uint8Array) => boolean) | null = null
  private readonly handlers = new Map<number, (data: Uint8Array, from: string) => Promise<unknown>>()
  genesis: unknown
  private rand: number
  readonly stats = { sent: 0, lost: 0 }
  /** Work outside the engines that {@link settle} waits for (see {@link track}). */
  private readonly background = new Set<Promise<unknown>>()

  private constructor(readonly opts: BftNetworkOptions) {
    this.rand = opts.seed ?? 1
    const g = devGenesis({ accounts: ADDRS, timestamp: BigInt(this.clock.seconds()) }) as {
      config: Record<string, unknown>
    }
    g.config.cairn = {
      bft: {
        validators: Array.from({ length: opts.genesisValidators ?? opts.validators }, (_, i) => ({
          address: bytesToHex(privateKeyToAddress(validatorKey(i))),
          power: 10,
        })),
        timeouts: { proposeMs: 1000, proposeDeltaMs: 500, prevoteMs: 500, prevoteDeltaMs: 250 },
        blockTimeMs: opts.blockTimeMs ?? 1000,
        emptyBlocks: opts.emptyBlocks ?? true,
      },
    }
    const bft = (g.config.cairn as { bft: Record<string, unknown> }).bft
    if (opts.bft) Object.assign(bft, opts.bft(bft.validators as { address: string; power: number }[]))
    if (opts.chainId !== undefined) g.config.chainId = Number(opts.chainId)
    opts.genesis?.(g as never)
    this.genesis = g
  }

  static async create(opts: BftNetworkOptions): Promise<BftNetwork> {
    await initCrypto()
    const net = new BftNetwork(opts)
    if (opts.staking) await net.stakingGenesis(opts.staking)
    const total = opts.validators + (opts.followers ?? 0)
    for (let i = 0; i < total; i++) net.nodes.push(await net.makeNode(i, i < opts.validators ? validatorKey(i) : null))
    return net
  }

  private async stakingGenesis(o: { selfBond?: bigint; params?: string[] }): Promise<void> {
    // Each validator is its own operator, funded for its transactions (votes, unjail).
    const g = this.genesis as { config: { cairn: { bft: Record<string, unknown> } }; alloc: Record<string, unknown> }
    const { staking, governance } = stakingParamsWith('devnet', o.params ?? [])
    const validators = Array.from({ length: this.opts.genesisValidators ?? this.opts.validators }, (_, i) =>
      bytesToHex(privateKeyToAddress(validatorKey(i))),
    ) as `0x${string}`[]
    // Under a PQ scheme (`bft` override: signatureScheme and the validators' pqPublicKey) the
    // staking contract registers the keys at genesis.
    const fixed = (g.config.cairn.bft.validators ?? []) as { address: `0x${string}`; pqPublicKey?: `0x${string}` }[]
    const scheme = g.config.cairn.bft.signatureScheme as SignatureScheme | undefined
    const alloc = await stakingGenesisAlloc({
      chainId: 1337n,
      ...(scheme !== undefined ? { signatureScheme: scheme } : {}),
      validators: validators.map((v, i) => ({
        operator: v,
        // Under ml-dsa-65 a validator is its key's pqAddress (the `bft` override's address); the
        // operator stays the secp256k1 account, funded for its transactions.
        consensus: scheme === 'ml-dsa-65' ? (fixed[i]?.address as `0x${string}`) : v,
        selfBond: o.selfBond ?? 10n ** 19n,
        commissionBps: 1000,
        ...(fixed[i]?.pqPublicKey !== undefined ? { pqPublicKey: fixed[i]?.pqPublicKey as `0x${string}` } : {}),
      })),
      staking,
      governance,
      chain: { blockGasLimit: 30_000_000n, minBaseFee: 0n, blockTimeMs: BigInt(this.opts.blockTimeMs ?? 1000) },
    })
    for (const v of validators) g.alloc[v] = { balance: `0x${(100n * 10n ** 18n).toString(16)}` }
    Object.assign(g.alloc, alloc)
    const { validators: _fixed, ...rest } = g.config.cairn.bft
    g.config.cairn.bft = { ...rest, staking: true }
  }

  /**
   * Adds a keyed node after the others (not started: `await node.engine.start()`), e.g. a second
   * process with a validator's key. `bft` overrides fields of its genesis's `config.cairn.bft` (its
   * own pace or timeouts); the genesis block, and so the chain, stay the same.
   */
  async addNode(key: Uint8Array, bft: Record<string, unknown> = {}): Promise<BftNode> {
    const g = structuredClone(this.genesis) as { config: { cairn: { bft: Record<string, unknown> } } }
    g.config.cairn.bft = { ...g.config.cairn.bft, ...bft }
    const node = await this.makeNode(this.nodes.length, key, undefined, g)
    this.nodes.push(node)
    return node
  }

  private stakingHooks(index: number): StakingHooks {
    const o = this.opts.staking?.hooks?.(index) ?? {}
    return new StakingHooks(o.skipUpgrades ? { skipUpgrades: o.skipUpgrades } : {}, {
      logger: silentLogger,
      ...(o.onHalt ? { onHalt: o.onHalt } : {}),
    })
  }

  private async makeNode(
    index: number,
    key: Uint8Array | null,
    kept?: { kv: MemoryKV; signerState: MemorySignerState | null; walStorage: MemoryWalStorage },
    genesis: unknown = this.genesis,
  ): Promise<BftNode> {
    const kv = kept?.kv ?? this.opts.kv?.(index) ?? new MemoryKV()
    if (!kept) await kv.open()
    const signerState = kept ? kept.signerState : key ? new MemorySignerState() : null
    const walStorage = kept?.walStorage ?? new MemoryWalStorage()
    const now = () => this.clock.seconds()
    const transport: BftTransport = {
      publish: (data) => this.publish(index, data),
      setHandler: (h) => {
        if (h === null) this.handlers.delete(index)
        else this.handlers.set(index, h)
      },
    }
    const config = await resolveBftConfig(genesis)
    const signer = this.opts.signer?.(index)
    const nextKeys = key ? this.opts.nextKeys?.(index) : undefined
    const engine = new BftEngine(
      {
        chainId: this.opts.chainId ?? 1337n,
        config,
        ...(key ? { privateKey: key } : {}),
        ...(nextKeys ? { nextPrivateKeys: nextKeys } : {}),
      },
      {
        logger: this.opts.logger ?? silentLogger,
        scheduler: this.clock,
        transport,
        ...(signerState ? { signerState } : {}),
        ...(signer ? { signer } : {}),
        wal: ConsensusWal.inMemory(walStorage, config.signatureScheme),
        ...(this.opts.validatorUpdates ? { validatorUpdates: this.opts.validatorUpdates } : {}),
        ...(config.staking ? { staking: this.stakingHooks(index) } : {}),
        ...(this.opts.metrics ? { metrics: this.opts.metrics(index) } : {}),
      },
    )
    const chain = await Chain.open(
      { genesis },
      {
        kv,
        engine,
        logger: silentLogger,
        metrics: null,
        customCrypto: createCustomCrypto(),
        now,
        ...(this.opts.extendVM ? { extendVM: this.opts.extendVM } : {}),
      },
    )
    const pool = new TxPool(
      { ...DEFAULT_TXPOOL_OPTIONS, minTip: 0n },
      { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger: silentLogger, metrics: null },
    )
    const follower = followChain(pool, chain.events, { logger: silentLogger })
    engine.attach({ chain, pool, follower })
    return { index, key, kv, signerState, walStorage, chain, pool, engine, follower }
  }

  /**
   * Restarts node `i` as after a crash: its engine stops and a new one (and chain, pool) opens over
   * the same store and signer state; what was in memory (the machine's round, votes seen) is gone.
   */
  async restart(i: number, whileDown?: (old: BftNode) => Promise<void>): Promise<void> {
    const node = await this.reopen(i, whileDown)
    await node.engine.start()
    await this.settle()
  }

  /**
   * Node `i` as after a crash, opened again but its engine not started yet: what a node process
   * does between opening its chain and starting its engine (a range sync may import meanwhile).
   */
  async reopen(i: number, whileDown?: (old: BftNode) => Promise<void>): Promise<BftNode> {
    const old = this.nodes[i] as BftNode
    await old.engine.stop()
    old.follower.stop()
    await whileDown?.(old)
    const node = await this.makeNode(i, old.key, {
      kv: old.kv,
      signerState: old.signerState,
      walStorage: old.walStorage,
    })
    this.nodes[i] = node
    return node
  }

  /** mulberry32: the network's only randomness. */
  private random(): number {
    this.rand = (this.rand + 0x6d2b79f5) >>> 0
    let t = this.rand
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  private publish(from: number, data: Uint8Array): void {
    this.opts.onPublish?.(from, data)
    if (this.silent.has(from) || this.dropIf?.(from, data)) return
    for (const n of this.nodes) {
      if (n.index === from) continue
      this.stats.sent++
      if ((this.opts.loss ?? 0) > 0 && this.random() < (this.opts.loss ?? 0)) {
        this.stats.lost++
        continue
      }
      this.clock.setTimeout(
        () => {
          if (this.silent.has(n.index) || this.silent.has(from)) return
          void this.handlers.get(n.index)?.(data, String(from))
        },
        this.opts.linkDelayMs?.(from, n.index, data) ?? this.opts.delayMs ?? 20,
      )
    }
  }

  /**
   * Hands `data` to node `to`'s consensus handler now, as a peer's message (a second signer, a
   * forger): the handler's verdict ('accept' | 'ignore' | 'reject'), or undefined when not started.
   */
  async deliver(to: number, data: Uint8Array, from = 'outsider'): Promise<unknown> {
    return this.handlers.get(to)?.(data, from)
  }

  async start(): Promise<void> {
    for (const n of this.nodes) await n.engine.start()
    await this.settle()
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      await n.engine.stop()
      n.follower.stop()
    }
  }

  /**
   * Work a turn of the clock started outside the engines (a range sync's import): {@link settle}
   * waits for it as for the engines' queues. It must not wait for the clock itself.
   */
  track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => this.background.delete(settled))
    this.background.add(settled)
  }

  /** Runs every engine's queue (and the pools' followers, and tracked work) until nothing is left to do. */
  async settle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      while (this.background.size > 0) await Promise.all([...this.background])
      await Promise.all(this.nodes.map((n) => n.engine.idle()))
      await Promise.all(this.nodes.map((n) => n.follower.settled()))
      if (this.background.size === 0 && this.nodes.every((n) => n.engine.quiet)) return
    }
  }

  /** Runs the clock for `ms`, settling the engines after every timer. */
  async run(ms: number): Promise<void> {
    const until = this.clock.now() + ms
    await this.settle()
    while (this.clock.step(until)) await this.settle()
    this.clock.advance(until - this.clock.now())
  }

  /** Runs the clock until `pred` holds (checked after each timer), at most `maxMs`; true when it held. */
  async runUntil(pred: () => boolean, maxMs = 120_000): Promise<boolean> {
    const until = this.clock.now() + maxMs
    await this.settle()
    while (!pred()) {
      if (!this.clock.step(until)) return pred()
      await this.settle()
    }
    return true
  }

  height(i: number): bigint {
    return (this.nodes[i] as BftNode).chain.head.header.number
  }
}
