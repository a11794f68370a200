// A seeded, virtual-time network of proof-of-work miners: miners of different hash rates find
// blocks (exponentially distributed, mean = the block's work over the miner's hash rate), gossip
// them with random delays, lose links in partitions, and fetch a block's missing ancestors from
// the peer that sent it (as range sync does). Each node judges what arrives with the real rules:
// `PowRules.validateHeader` (timestamp bound, ASERT target; the Argon2id seal itself is skipped,
// test/pow/seal.test.ts covers it) and the chain's real `ForkChoice` asking `PowRules.preferHead`
// (heaviest total work, the reorg limit). A byzantine miner broadcasts blocks that claim more work
// than their target or carry a timestamp far ahead. Nothing reads a clock; the PRNG is the only
// randomness, so a seed replays exactly (POW_SIM_SEED=n, mining-sim.test.ts).
//
// Invariants checked as the run goes (each a `violations` line naming the node, time and block):
// - ASERT: every block a node stores has the difficulty the rule gives its parent, recomputed here
//   from asert.ts alone; no byzantine block is ever stored.
// - Reorg limit: no head change reverts more than `maxReorgDepth` blocks.
// - Heaviest wins, arrival by arrival: a block extending the head becomes the head; a block with
//   more total work than the head (totals kept here, not by the rules) becomes the head when its
//   branch reverts at most the limit, and is refused otherwise, with `cairn_pow_reorgs_refused_total`
//   counting it; a block with no more work leaves the head alone (ties: first seen).
// - Heaviest wins, at the end (links up, mining stopped, messages drained): every node that never
//   refused a branch holds a head with the most total work of any honest block.
import { type BlockReader, createChainCommon, ForkChoice, type HeaderContext } from '@cairn/chain'
import { bytesToHex, CairnError, silentLogger } from '@cairn/utils'
import { type Block, type BlockHeader, createBlock } from '@ethereumjs/block'
import { Registry } from 'prom-client'
import { type AsertParams, nextAsertTarget } from '../../src/pow/asert.ts'
import { TWO_256 } from '../../src/pow/compact-bits.ts'
import { genesisAnchor, type PowChainParams } from '../../src/pow/params.ts'
import { createPowMetrics, type PowMetrics } from '../../src/pow/pow-metrics.ts'
import { PowRules } from '../../src/pow/pow-rules.ts'
import { DEFAULT_SEAL_PARAMS } from '../../src/pow/seal.ts'
import { workOf } from '../../src/pow/work.ts'
import { Prng } from '../bft/sim/prng.ts'
import { EventQueue } from '../bft/sim/queue.ts'

export const GENESIS_TIME = 1_700_000_000
const SPACING = 12

export interface Partition {
  /** Virtual seconds after the start. */
  from: number
  until: number
  /** Node indices of the one side (the rest are the other). */
  side: number[]
}

export interface HashRateStep {
  at: number
  /** Every miner's hash rate is multiplied by this from `at` on. */
  factor: number
}

export interface MiningScenario {
  seed: number
  /** Attempts per second of each node (0: a node that only follows). */
  hashRates: number[]
  /** The index of a miner that also broadcasts invalid blocks, if any. */
  byzantine?: number
  /** One-way delay of a message, seconds: uniform in [min, max]. */
  delay: { min: number; max: number }
  partitions: Partition[]
  steps: HashRateStep[]
  /** Mining stops after this many virtual seconds; messages then drain. */
  duration: number
  maxReorgDepth: number
  asert: AsertParams
  genesisBits: number
}

/** Draws a scenario from a seed: 3–5 nodes of unequal hash rates, delays, 0–3 partitions (some deeper than the limit). */
export function drawScenario(seed: number): MiningScenario {
  const rng = new Prng(seed)
  const n = rng.int(3, 5)
  const shares = Array.from({ length: n }, () => 0.05 + rng.float() ** 2)
  const total = shares.reduce((a, b) => a + b, 0)
  const genesisBits = 0x1f100000 // 4,096 attempts a block
  // The network's hash rate: 0.5×–2× the one the genesis target was set for (ASERT has to move).
  const networkRate = (4096 / SPACING) * (0.5 + rng.float() * 1.5)
  const hashRates = shares.map((s) => (s / total) * networkRate)
  if (rng.chance(0.2)) hashRates[rng.int(0, n - 1)] = 0
  const duration = rng.int(150, 300) * SPACING
  const partitions: Partition[] = []
  let at = rng.int(5, 40) * SPACING
  for (let i = rng.int(0, 3); i > 0 && at < duration - 10 * SPACING; i--) {
    // short ones (a few blocks) and long ones (dozens of blocks: deeper than the limit)
    const length = (rng.chance(0.5) ? rng.int(1, 8) : rng.int(15, 80)) * SPACING
    const side = Array.from({ length: n }, (_, j) => j).filter(() => rng.chance(0.5))
    if (side.length > 0 && side.length < n) partitions.push({ from: at, until: at + length, side })
    at += length + rng.int(3, 30) * SPACING
  }
  return {
    seed,
    hashRates,
    byzantine: rng.chance(0.4) ? rng.int(0, n - 1) : undefined,
    delay: rng.chance(0.3) ? { min: 0.05, max: 1 } : { min: 0.5, max: rng.int(2, 10) },
    partitions,
    steps: [],
    duration,
    maxReorgDepth: 10,
    // a half-life of 24 blocks: short enough that ASERT moves within a run
    asert: { spacing: BigInt(SPACING), halfLife: BigInt(24 * SPACING), powLimit: TWO_256 - 1n },
    genesisBits,
  }
}

/**
 * The network's hash rate ×10 after 100 blocks, back ÷10 ten half-lives later, for fourteen more;
 * 4 miners of unequal rates, short delays, no partitions, no byzantine miner. The half-life is 96
 * blocks: with 24, a target's random walk alone (12 s × √24 a half-life, ±15%) crosses the band
 * recovery is judged by.
 */
export function stepScenario(seed: number): MiningScenario {
  const s = drawScenario(seed)
  const halfLife = 96 * SPACING
  const shares = [0.4, 0.3, 0.2, 0.1]
  const up = 100 * SPACING
  const down = up + 10 * halfLife
  return {
    ...s,
    hashRates: shares.map((f) => (f * 4096) / SPACING),
    byzantine: undefined,
    delay: { min: 0.05, max: 0.5 },
    partitions: [],
    steps: [
      { at: up, factor: 10 },
      { at: down, factor: 0.1 },
    ],
    duration: down + 14 * halfLife,
    asert: { ...s.asert, halfLife: BigInt(halfLife) },
  }
}

export interface SimBlockRecord {
  hash: string
  parent: string
  number: bigint
  time: bigint
  work: bigint
  totalWork: bigint
  miner: number
  /** The network's hash rate when it was mined (attempts per second). */
  networkRate: number
}

export interface MiningResult {
  seed: number
  violations: string[]
  /** Honest blocks mined. */
  blocks: number
  /** Reorgs made, by depth (blocks reverted). */
  reorgDepths: number[]
  /** Heavier branches refused for the reorg limit, over all nodes (their metric's sum). */
  refusals: number
  /** Byzantine blocks refused, by error code. */
  refusedInvalid: Record<string, number>
  /** Every honest block, by hash. */
  all: Map<string, SimBlockRecord>
  /** Each node's head at the end. */
  heads: string[]
}

/** The rules a sim node runs: the real ones, the seal's Argon2id skipped (its cost is not what is simulated). */
class SimRules extends PowRules {
  override async checkSeal(_header: BlockHeader, _target: bigint): Promise<void> {}
}

/** Rules with a fault, to show the invariants catch it: every header accepted. */
class NoHeaderRules extends SimRules {
  override async validateHeader(_header: BlockHeader, _parent: BlockHeader, ctx: HeaderContext): Promise<void> {
    this.reader ??= ctx.chain
  }
}

/** Broken rules the invariants must catch (mining-sim.test.ts runs them). */
export interface SimFaults {
  /** The nodes' rules run without a reorg limit (the checks still expect `maxReorgDepth`). */
  noReorgLimit?: boolean
  /** The nodes accept any header (no target, no timestamp bound). */
  noHeaderChecks?: boolean
}

/** A node's stored blocks and canonical index: the part of the chain store the rules and fork choice read. */
class SimStore {
  readonly blocks = new Map<string, Block>()
  readonly canonical = new Map<bigint, Uint8Array>()

  async getHeader(hash: Uint8Array): Promise<BlockHeader | undefined> {
    return this.blocks.get(bytesToHex(hash))?.header
  }
  async getBlock(hash: Uint8Array): Promise<Block | undefined> {
    return this.blocks.get(bytesToHex(hash))
  }
  async mustGetBlock(hash: Uint8Array): Promise<Block> {
    const b = this.blocks.get(bytesToHex(hash))
    if (!b) throw new Error(`sim store: block ${bytesToHex(hash)} missing`)
    return b
  }
  async getCanonicalHash(n: bigint): Promise<Uint8Array | undefined> {
    return this.canonical.get(n)
  }
}

interface SimNode {
  index: number
  rules: SimRules
  store: SimStore
  forkChoice: ForkChoice
  metrics: PowMetrics
  /** Bumped when the head moves: a mining event of an older epoch is stale. */
  epoch: number
}

type SimEvent =
  | { kind: 'mine'; node: number; epoch: number }
  | { kind: 'deliver'; from: number; to: number; hash: string }
  | { kind: 'announce' }

export async function simulate(s: MiningScenario, faults: SimFaults = {}): Promise<MiningResult> {
  const rng = new Prng(s.seed ^ 0x5eed)
  const common = createChainCommon({ chainId: 4242n, hardfork: 'london' })
  const params: PowChainParams = { asert: s.asert, genesisBits: s.genesisBits, seal: { ...DEFAULT_SEAL_PARAMS } }
  const genesisTarget = nextAsertTarget(
    { height: 0n, parentTime: BigInt(GENESIS_TIME - SPACING), bits: s.genesisBits },
    { height: 0n, time: BigInt(GENESIS_TIME - SPACING) },
    s.asert,
  )
  const genesis = makeBlock(common, {
    parentHash: new Uint8Array(32),
    number: 0n,
    timestamp: BigInt(GENESIS_TIME),
    difficulty: workOf(genesisTarget),
    coinbase: 0,
    extra: 0,
  })
  const anchor = genesisAnchor(params, genesis.header)
  const genesisHex = bytesToHex(genesis.hash())
  const all = new Map<string, SimBlockRecord>([
    [
      genesisHex,
      {
        hash: genesisHex,
        parent: '',
        number: 0n,
        time: genesis.header.timestamp,
        work: genesis.header.difficulty,
        totalWork: genesis.header.difficulty,
        miner: -1,
        networkRate: 0,
      },
    ],
  ])
  const violations: string[] = []
  const reorgDepths: number[] = []
  const refusedInvalid: Record<string, number> = {}
  const queue = new EventQueue<SimEvent>()
  let now = 0
  let blockCount = 0
  let rateFactor = 1
  let extra = 1

  const nodes: SimNode[] = s.hashRates.map((_, index) => {
    const store = new SimStore()
    store.blocks.set(genesisHex, genesis)
    store.canonical.set(0n, genesis.hash())
    const metrics = createPowMetrics(new Registry())
    const Rules = faults.noHeaderChecks ? NoHeaderRules : SimRules
    const rules = new Rules(
      { params, maxReorgDepth: faults.noReorgLimit ? 1_000_000 : s.maxReorgDepth },
      { logger: silentLogger, metrics, now: () => GENESIS_TIME + now },
    )
    const forkChoice = new ForkChoice(
      { head: genesis },
      { store: store as unknown as ConstructorParameters<typeof ForkChoice>[1]['store'], engine: rules },
    )
    return { index, rules, store, forkChoice, metrics, epoch: 0 }
  })
  const reader = (n: SimNode) => n.store as unknown as BlockReader

  const apart = (a: number, b: number): boolean =>
    s.partitions.some((p) => now >= p.from && now < p.until && p.side.includes(a) !== p.side.includes(b))

  const send = (from: number, hash: string): void => {
    for (const to of nodes) {
      if (to.index === from || apart(from, to.index)) continue
      const d = s.delay.min + rng.float() * (s.delay.max - s.delay.min)
      queue.push(now + d, { kind: 'deliver', from, to: to.index, hash })
    }
  }

  const scheduleMining = (node: SimNode): void => {
    node.epoch++
    const rate = s.hashRates[node.index]! * rateFactor
    if (rate <= 0 || now >= s.duration) return
    const head = node.forkChoice.head().header
    const target = nextAsertTarget(anchor, { height: head.number, time: head.timestamp }, s.asert)
    const mean = Number(workOf(target)) / rate
    queue.push(now + -Math.log(1 - rng.float()) * mean, { kind: 'mine', node: node.index, epoch: node.epoch })
  }

  /** The sim's own reference: the total work of a block, from the records of every block. */
  const totalOf = (hash: string): bigint => all.get(hash)?.totalWork ?? -1n

  /** How many blocks of the chain ending at `head` a move to `candidate` reverts (walked on the records). */
  const depthBetween = (head: string, candidate: string): number => {
    const onHead = new Set<string>()
    for (let h: string | undefined = head; h; h = all.get(h)?.parent) onHead.add(h)
    let c: string | undefined = all.get(candidate)?.parent
    while (c && !onHead.has(c)) c = all.get(c)?.parent
    const ancestor = c ? all.get(c)! : all.get(genesisHex)!
    return Number(all.get(head)!.number - ancestor.number)
  }

  /** Imports `block` at `node` as the chain would: header rules, store, fork choice, canonical index. */
  const importBlock = async (node: SimNode, block: Block, byzantine: boolean): Promise<void> => {
    const hash = bytesToHex(block.hash())
    if (node.store.blocks.has(hash)) return
    const parent = await node.store.getHeader(block.header.parentHash)
    if (!parent) return // the sender always sends ancestors first
    try {
      await node.rules.validateHeader(block.header, parent, {
        chain: reader(node),
        stateAt: () => {
          throw new Error('no state in the sim')
        },
      })
    } catch (err) {
      const code = err instanceof CairnError ? err.code : String(err)
      if (byzantine) refusedInvalid[code] = (refusedInvalid[code] ?? 0) + 1
      else violations.push(`t=${now.toFixed(1)} node ${node.index}: honest block ${hash} refused: ${code}`)
      return
    }
    if (byzantine && !all.has(hash)) {
      violations.push(`t=${now.toFixed(1)} node ${node.index}: stored byzantine block ${hash}`)
      const parentHex = bytesToHex(parent.hash())
      const work = block.header.difficulty
      all.set(hash, {
        ...{ hash, parent: parentHex, number: block.header.number, time: block.header.timestamp, work },
        ...{ totalWork: totalOf(parentHex) + work, miner: -2, networkRate: 0 },
      })
    }
    // ASERT, recomputed from asert.ts alone
    const want = workOf(nextAsertTarget(anchor, { height: parent.number, time: parent.timestamp }, s.asert))
    if (block.header.difficulty !== want) {
      violations.push(
        `t=${now.toFixed(1)} node ${node.index}: block ${block.header.number} has difficulty ${block.header.difficulty}, ASERT gives ${want}`,
      )
    }
    const before = node.forkChoice.head()
    const beforeHex = bytesToHex(before.hash())
    const refusedBefore = await refusedCount(node)
    const change = await node.forkChoice.onBlock(block)
    node.store.blocks.set(hash, block)
    if (change.status === 'head') {
      for (const b of change.removed) node.store.canonical.delete(b.header.number)
      for (const b of change.added) node.store.canonical.set(b.header.number, b.hash())
      node.forkChoice.apply({ head: block, moved: change.moved })
      if (change.removed.length > 0) reorgDepths.push(change.removed.length)
      if (change.removed.length > s.maxReorgDepth) {
        violations.push(
          `t=${now.toFixed(1)} node ${node.index}: a reorg reverted ${change.removed.length} blocks, over the limit ${s.maxReorgDepth}`,
        )
      }
    }
    // Heaviest wins, judged on the sim's own totals and depths.
    const refused = (await refusedCount(node)) - refusedBefore
    const extends_ = bytesToHex(block.header.parentHash) === beforeHex
    const heavier = totalOf(hash) > totalOf(beforeHex)
    const depth = extends_ ? 0 : depthBetween(beforeHex, hash)
    const expectHead = extends_ || (heavier && depth <= s.maxReorgDepth)
    const headNow = bytesToHex(node.forkChoice.head().hash())
    const where = `t=${now.toFixed(1)} node ${node.index}, block ${block.header.number} ${hash.slice(0, 10)}`
    if (expectHead && headNow !== hash) violations.push(`${where}: should be the head (heavier, depth ${depth})`)
    if (!expectHead && headNow !== beforeHex) violations.push(`${where}: moved the head without more work in reach`)
    const expectRefusal = !extends_ && heavier && depth > s.maxReorgDepth
    if (refused !== (expectRefusal ? 1 : 0)) {
      violations.push(`${where}: the refusal metric moved by ${refused}, expected ${expectRefusal ? 1 : 0}`)
    }
    if (headNow !== beforeHex) {
      scheduleMining(node)
      send(node.index, headNow)
    }
  }

  /** Delivers `hash` from `from` to `to`: the block and whichever ancestors `to` lacks, oldest first. */
  const deliver = async (from: SimNode, to: SimNode, hash: string): Promise<void> => {
    const byz = byzantineBlocks.get(hash)
    if (byz) {
      const parentHex = bytesToHex(byz.header.parentHash)
      if (!to.store.blocks.has(parentHex)) await deliver(from, to, parentHex)
      await importBlock(to, byz, true)
      return
    }
    const chain: Block[] = []
    for (let h = hash; !to.store.blocks.has(h); ) {
      const b = from.store.blocks.get(h)
      if (!b) return // the sender never stored it
      chain.push(b)
      h = bytesToHex(b.header.parentHash)
    }
    for (const b of chain.reverse()) await importBlock(to, b, false)
  }

  const byzantineBlocks = new Map<string, Block>()

  const mine = async (node: SimNode): Promise<void> => {
    const head = node.forkChoice.head().header
    const target = nextAsertTarget(anchor, { height: head.number, time: head.timestamp }, s.asert)
    const t = BigInt(GENESIS_TIME + Math.floor(now))
    const timestamp = t > head.timestamp ? t : head.timestamp + 1n
    const block = makeBlock(common, {
      parentHash: head.hash(),
      number: head.number + 1n,
      timestamp,
      difficulty: workOf(target),
      coinbase: node.index + 1,
      extra: extra++,
    })
    const hash = bytesToHex(block.hash())
    all.set(hash, {
      hash,
      parent: bytesToHex(head.hash()),
      number: block.header.number,
      time: timestamp,
      work: block.header.difficulty,
      totalWork: totalOf(bytesToHex(head.hash())) + block.header.difficulty,
      miner: node.index,
      networkRate: s.hashRates.reduce((a, b) => a + b, 0) * rateFactor,
    })
    blockCount++
    await importBlock(node, block, false)
    if (s.byzantine === node.index && rng.chance(0.5)) {
      // a block that claims 8× its target's work, or one stamped 10 minutes ahead
      const lie = rng.chance(0.5)
      const bad = makeBlock(common, {
        parentHash: head.hash(),
        number: head.number + 1n,
        timestamp: lie ? timestamp : timestamp + 600n,
        difficulty: lie ? workOf(target) * 8n : workOf(target),
        coinbase: 0xbad,
        extra: extra++,
      })
      byzantineBlocks.set(bytesToHex(bad.hash()), bad)
      send(node.index, bytesToHex(bad.hash()))
    }
  }

  for (const node of nodes) scheduleMining(node)
  for (const p of s.partitions) queue.push(p.until, { kind: 'announce' })
  for (const step of s.steps) queue.push(step.at, { kind: 'announce' })

  for (;;) {
    const ev = queue.pop()
    // Twenty violations say what is wrong; a broken run stops there (the fault runs, a bad seed).
    if (!ev || violations.length >= 20) break
    now = ev.time
    const e = ev.item
    if (e.kind === 'mine') {
      const node = nodes[e.node]!
      if (e.epoch !== node.epoch || now >= s.duration) continue
      await mine(node)
    } else if (e.kind === 'deliver') {
      if (apart(e.from, e.to)) continue // the link went down on the way
      await deliver(nodes[e.from]!, nodes[e.to]!, e.hash)
    } else {
      // a partition healed or the hash rate stepped: every node announces its head; miners redraw
      rateFactor = s.steps.filter((st) => st.at <= now).reduce((f, st) => f * st.factor, 1)
      for (const node of nodes) {
        send(node.index, bytesToHex(node.forkChoice.head().hash()))
        scheduleMining(node)
      }
    }
  }

  // At the end: every node that never refused a branch holds the heaviest honest block's work.
  let best = 0n
  for (const r of all.values()) if (r.totalWork > best) best = r.totalWork
  const heads = nodes.map((n) => bytesToHex(n.forkChoice.head().hash()))
  let refusals = 0
  for (const node of nodes) {
    const refused = await refusedCount(node)
    refusals += refused
    const tw = totalOf(heads[node.index]!)
    if (refused === 0 && tw !== best) {
      violations.push(`end: node ${node.index} refused nothing but its head has work ${tw}, the heaviest ${best}`)
    }
  }
  return { seed: s.seed, violations, blocks: blockCount, reorgDepths, refusals, refusedInvalid, all, heads }
}

async function refusedCount(node: SimNode): Promise<number> {
  return (await node.metrics.reorgsRefused.get()).values[0]?.value ?? 0
}

function makeBlock(
  common: ReturnType<typeof createChainCommon>,
  h: {
    parentHash: Uint8Array
    number: bigint
    timestamp: bigint
    difficulty: bigint
    coinbase: number
    extra: number
  },
): Block {
  const coinbase = new Uint8Array(20)
  new DataView(coinbase.buffer).setUint32(16, h.coinbase)
  const extraData = new Uint8Array(8)
  new DataView(extraData.buffer).setBigUint64(0, BigInt(h.extra))
  return createBlock(
    {
      header: {
        parentHash: h.parentHash,
        number: h.number,
        timestamp: h.timestamp,
        difficulty: h.difficulty,
        coinbase,
        extraData,
        gasLimit: 30_000_000n,
        baseFeePerGas: 1_000_000_000n,
      },
    },
    { common },
  )
}
