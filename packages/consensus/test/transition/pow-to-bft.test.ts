// The PoW → PoS transition in process: four nodes on a genesis with proof of work to block H − 1
// and BFT from H (`config.cairn.pow.transition`, the merge scheduled at H, four validators in
// `config.cairn.bft`), each running a `ScheduledEngine` (a PowEngine below H, a BftEngine from H).
// Blocks 1..H−1 are mined through node 0's work API and gossiped; at H − 1 every node hands over
// and the validators commit H and H + 1 over an in-memory consensus topic. A miner that kept
// mining (its genesis lacks the entry) has its block at H refused. Again with the validators bonded
// in the staking contract of the genesis alloc instead of fixed in config.cairn.bft.
import { Chain } from '@cairn/chain'
import { createCustomCrypto, initCrypto, privateKeyToAddress } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { type ChainFollower, DEFAULT_TXPOOL_OPTIONS, followChain, TxPool } from '@cairn/txpool'
import { bytesToHex, silentLogger } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { afterEach, describe, expect, it } from 'vitest'
import { ADDRS, cairnError } from '../../../chain/test/helpers.ts'
import {
  BftEngine,
  type BftTransport,
  decodeBftExtra,
  MemorySignerState,
  resolveBftConfig,
  StakingHooks,
  stakingGenesisAlloc,
  stakingParamsWith,
} from '../../src/index.ts'
import {
  PowEngine,
  PowErrorCode,
  parsePowConfig,
  powGenesis,
  ScheduledEngine,
  terminalRule,
} from '../../src/pow/index.ts'
import { validatorKey } from '../harness/bft-network.ts'
import { ManualClock } from '../harness/clock.ts'
import { findSeal, hexBytes, powSetup, stopAllPow } from '../pow/pow-setup.ts'

const H = 3n
const POW = { powLimit: '0x207fffff', genesisBits: '0x207fffff', seal: { memoryKiB: 64, iterations: 1 } }

interface Node {
  chain: Chain
  pool: TxPool
  pow: PowEngine
  bft: BftEngine
  engine: ScheduledEngine
  follower: ChainFollower
  /** What a restart keeps: the node's store and its signer's record of what it signed. */
  kv: MemoryKV
  signerState: MemorySignerState
}

const started: Node[] = []
afterEach(async () => {
  for (const n of started.splice(0)) {
    await n.engine.stop()
    n.follower.stop()
  }
  await stopAllPow()
})

const VALIDATORS = [0, 1, 2, 3].map((i) => bytesToHex(privateKeyToAddress(validatorKey(i))) as `0x${string}`)

/**
 * A proof-of-work genesis that merges at H, with BFT validators: fixed in `config.cairn.bft`, or
 * (`staking`) bonded in the staking contract of its alloc, as a BFT devnet's.
 */
async function transitionGenesis(
  timestamp: number,
  transition = true,
  staking = false,
): Promise<Record<string, unknown>> {
  const params = parsePowConfig({
    config: { cairn: { pow: transition ? { ...POW, transition: { height: Number(H), engine: 'bft' } } : POW } },
  })
  const alloc: Record<string, bigint> = {}
  for (const a of ADDRS) alloc[a] = 10n ** 24n
  const g = powGenesis({ chainId: 1337, params, alloc, timestamp }) as {
    config: Record<string, unknown> & { cairn: Record<string, unknown> }
    alloc: Record<string, unknown>
  }
  if (!transition) return g
  g.config.mergeForkBlock = Number(H)
  const bft: Record<string, unknown> = {
    timeouts: { proposeMs: 1000, proposeDeltaMs: 500, prevoteMs: 500, prevoteDeltaMs: 250 },
    blockTimeMs: 1000,
    emptyBlocks: true,
  }
  if (staking) {
    const { staking: stakingParams, governance } = stakingParamsWith('devnet', [])
    const alloc = await stakingGenesisAlloc({
      chainId: 1337n,
      validators: VALIDATORS.map((v) => ({ operator: v, consensus: v, selfBond: 10n ** 19n, commissionBps: 1000 })),
      staking: stakingParams,
      governance,
      chain: { blockGasLimit: 30_000_000n, minBaseFee: 0n, blockTimeMs: 1000n },
    })
    Object.assign(g.alloc, alloc)
    bft.staking = true
  } else bft.validators = VALIDATORS.map((address) => ({ address, power: 10 }))
  g.config.cairn.bft = bft
  return g
}

async function makeNode(
  i: number,
  genesis: unknown,
  clock: ManualClock,
  handlers: Map<number, (data: Uint8Array, from: string) => Promise<unknown>>,
  publish: (from: number, data: Uint8Array) => void,
  kept?: { kv: MemoryKV; signerState: MemorySignerState },
): Promise<Node> {
  const transport: BftTransport = {
    publish: (data) => publish(i, data),
    setHandler: (h) => {
      if (h === null) handlers.delete(i)
      else handlers.set(i, h)
    },
  }
  const signerState = kept?.signerState ?? new MemorySignerState()
  const pow = new PowEngine(
    { params: parsePowConfig(genesis), coinbase: Uint8Array.from({ length: 20 }, () => 0xc0 + i) },
    { logger: silentLogger, now: () => clock.seconds(), clockMs: () => clock.now() },
  )
  const config = await resolveBftConfig(genesis)
  const bft = new BftEngine(
    { chainId: 1337n, config, privateKey: validatorKey(i), firstHeight: Number(H) },
    {
      logger: silentLogger,
      scheduler: clock,
      transport,
      signerState,
      ...(config.staking ? { staking: new StakingHooks({}, { logger: silentLogger }) } : {}),
      terminalAccepts: terminalRule(pow),
    },
  )
  const engine = new ScheduledEngine({ height: H }, { before: pow, after: bft, logger: silentLogger })
  const kv = kept?.kv ?? new MemoryKV()
  if (!kept) await kv.open()
  const chain = await Chain.open(
    { genesis },
    { kv, engine, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto(), now: () => clock.seconds() },
  )
  const pool = new TxPool(
    { ...DEFAULT_TXPOOL_OPTIONS, minTip: 0n },
    { stateAt: (root) => chain.stateAt(root), head: chain.head.header, logger: silentLogger, metrics: null },
  )
  const follower = followChain(pool, chain.events, { logger: silentLogger })
  engine.attach({ chain, pool, follower })
  return { chain, pool, pow, bft, engine, follower, kv, signerState }
}

/**
 * Four nodes on the transition genesis: blocks 1 .. H − 1 mined on node 0 (its work API) and
 * gossiped, then the clock run until every node has H + 1.
 */
async function mineAndTransition(
  staking: boolean,
  /** Two blocks mined at H − 1 (node 0's and node 2's), each half of the validators holding one first. */
  race = false,
): Promise<{
  nodes: Node[]
  mined: Block[]
  clock: ManualClock
  /** Stops node `i` and starts it again on its store (its engine picks the era from the stored head). */
  restart: (i: number) => Promise<Node>
  /** Runs the clock until every node has block `height` (false: not within two minutes). */
  runTo: (height: bigint) => Promise<boolean>
}> {
  await initCrypto()
  const clock = new ManualClock()
  const genesis = await transitionGenesis(clock.seconds(), true, staking)
  const handlers = new Map<number, (data: Uint8Array, from: string) => Promise<unknown>>()
  const nodes: Node[] = []
  const publish = (from: number, data: Uint8Array) => {
    for (let to = 0; to < nodes.length; to++) {
      if (to !== from) clock.setTimeout(() => void handlers.get(to)?.(data, String(from)), 20)
    }
  }
  for (let i = 0; i < 4; i++) nodes.push(await makeNode(i, genesis, clock, handlers, publish))
  for (const n of nodes) {
    await n.engine.start()
    started.push(n)
  }
  const settle = async () => {
    for (let k = 0; k < 100; k++) {
      await Promise.all(nodes.map((n) => n.engine.handedOver()))
      await Promise.all(nodes.map((n) => n.bft.idle()))
      await Promise.all(nodes.map((n) => n.follower.settled()))
      if (nodes.every((n) => n.bft.quiet)) return
    }
  }
  const node0 = nodes[0] as Node
  // Proof of work: blocks 1 .. H − 1 mined on node 0 (its work API) and gossiped to the others.
  const mined: Block[] = []
  const mine = async (n: Node) => {
    const [hash, , boundary] = await n.pow.getWork()
    const seal = await findSeal(hexBytes(hash), BigInt(boundary))
    expect(await n.pow.submitWork(seal.nonce, hexBytes(hash), seal.mixHash)).toBe(true)
    return n.chain.head
  }
  const deliver = async (block: Block, to: Node[]) => {
    for (const n of to) {
      const r = await n.chain.processBlock(block.serialize(), { source: 'gossip', peer: '0' })
      expect(r.status).toBe('imported')
    }
  }
  for (let h = 1n; h < (race ? H - 1n : H); h++) {
    clock.advance(12_000)
    const block = await mine(node0)
    expect(block.header.number).toBe(h)
    mined.push(block)
    await deliver(block, nodes.slice(1))
  }
  if (race) {
    // Two terminal blocks of equal work at H − 1: nodes 0 and 1 take node 0's first, 2 and 3 node 2's.
    clock.advance(12_000)
    const [n0, n1, n2, n3] = nodes as [Node, Node, Node, Node]
    const x = await mine(n0)
    const y = await mine(n2)
    expect(x.header.number).toBe(H - 1n)
    expect(y.header.difficulty).toBe(x.header.difficulty)
    await deliver(x, [n1])
    await deliver(y, [n3])
    await settle() // each half hands over on its own terminal block
    await deliver(x, [n2, n3])
    await deliver(y, [n0, n1])
    expect(bytesToHex(n1.chain.head.hash())).toBe(bytesToHex(x.hash()))
    expect(bytesToHex(n3.chain.head.hash())).toBe(bytesToHex(y.hash()))
    mined.push(x, y)
  }
  await settle()
  // BFT from H: run the clock until every node has H + 1 and H is final on all.
  const runTo = async (height: bigint) => {
    const deadline = clock.now() + 120_000
    while (!nodes.every((n) => n.chain.head.header.number >= height)) {
      if (!clock.step(deadline)) return false
      await settle()
    }
    return true
  }
  await runTo(H + 1n)
  const restart = async (i: number) => {
    const old = nodes[i] as Node
    await old.engine.stop()
    old.follower.stop()
    started.splice(started.indexOf(old), 1)
    const node = await makeNode(i, genesis, clock, handlers, publish, { kv: old.kv, signerState: old.signerState })
    nodes[i] = node
    await node.engine.start()
    started.push(node)
    return node
  }
  return { nodes, mined, clock, restart, runTo }
}

describe('PoW → PoS: the BFT half', () => {
  it('mines to H − 1, hands over, and the validators finalize H and H + 1; a block mined at H is refused', async () => {
    const { nodes, mined, clock } = await mineAndTransition(false)
    const node0 = nodes[0] as Node
    expect((await cairnError(node0.pow.getWork())).code).toBe(PowErrorCode.AFTER_TRANSITION)
    for (const n of nodes) expect(n.chain.head.header.number).toBeGreaterThanOrEqual(H + 1n)
    const hashes = async (n: Node) =>
      Promise.all([1n, 2n, 3n, 4n].map(async (h) => bytesToHex((await n.chain.getCanonicalHash(h)) as Uint8Array)))
    const reference = await hashes(node0)
    for (const n of nodes) {
      expect(await hashes(n)).toEqual(reference)
      expect((await n.chain.checkpoint('finalized')).header.number).toBeGreaterThanOrEqual(H)
    }
    // The ruleset changed at H: mined blocks carry work, BFT blocks none, and BFT's extra data.
    for (const b of mined) expect(b.header.difficulty).toBeGreaterThan(0n)
    const first = (await node0.chain.getBlockByNumber(H)) as Block
    const second = (await node0.chain.getBlockByNumber(H + 1n)) as Block
    expect(bytesToHex(first.header.parentHash)).toBe(bytesToHex((mined.at(-1) as Block).hash()))
    for (const b of [first, second]) expect(b.header.difficulty).toBe(0n)
    expect(decodeBftExtra(first.header.extraData).parentCertificate).toBeNull()
    const cert = decodeBftExtra(second.header.extraData).parentCertificate
    expect(cert?.height).toBe(Number(H))
    expect(bytesToHex(cert?.blockHash as Uint8Array)).toBe(bytesToHex(first.hash()))
    // A miner whose genesis lacks the transition (same genesis block) mines H: refused, its sender to blame.
    const endless = await transitionGenesis(Number((node0.chain.genesisBlock as Block).header.timestamp), false)
    const miner = await powSetup({ params: parsePowConfig(endless), genesis: endless })
    expect(bytesToHex(miner.chain.genesisBlock.hash())).toBe(bytesToHex(node0.chain.genesisBlock.hash()))
    miner.clock.now = clock.seconds()
    for (const b of mined) await miner.chain.processBlock(b.serialize(), { source: 'gossip', peer: '0' })
    const [hash, , boundary] = await miner.engine.getWork()
    const seal = await findSeal(hexBytes(hash), BigInt(boundary))
    await miner.engine.submitWork(seal.nonce, hexBytes(hash), seal.mixHash)
    expect(miner.chain.head.header.number).toBe(H)
    const r = await (nodes[1] as Node).chain.processBlock(miner.chain.head.serialize(), { source: 'gossip', peer: 'm' })
    expect(r.status).toBe('error')
    if (r.status === 'error') expect(r.error.code).toBe(PowErrorCode.AFTER_TRANSITION)
    if (r.status === 'error') expect(r.error.penalize).toBe(true)
    expect(await (nodes[1] as Node).chain.getBlock(miner.chain.head.hash())).toBeUndefined()
  }, 60_000)

  it('takes its validators from the genesis staking contract (StakingHooks from H)', async () => {
    const { nodes } = await mineAndTransition(true)
    const node0 = nodes[0] as Node
    const set = node0.bft.validatorsAt(Number(H))
    expect(set.size).toBe(4)
    for (const n of nodes) {
      expect(n.chain.head.header.number).toBeGreaterThanOrEqual(H + 1n)
      expect((await n.chain.checkpoint('finalized')).header.number).toBeGreaterThanOrEqual(H)
      expect(bytesToHex((await n.chain.getCanonicalHash(H + 1n)) as Uint8Array)).toBe(
        bytesToHex((await node0.chain.getCanonicalHash(H + 1n)) as Uint8Array),
      )
    }
    // H's proposer is one of the bonded validators.
    const first = (await node0.chain.getBlockByNumber(H)) as Block
    expect(VALIDATORS).toContain(first.header.coinbase.toString())
  }, 60_000)

  it('announces the mined heads on the blocks topic, not the BFT ones (their validators would execute them twice)', () => {
    const engine = new ScheduledEngine({ height: H }, {
      before: { capabilities: { announcesHeads: true } },
      after: { capabilities: { announcesHeads: false } },
      logger: silentLogger,
    } as never)
    expect(engine.capabilities.announcesHeads).toBe(true)
    expect([1n, H - 1n, H, H + 1n].map((n) => engine.capabilities.announcesHead?.(n))).toEqual([
      true,
      true,
      false,
      false,
    ])
  })

  it("a validator restarted past H resumes as a BFT validator: the engine of the stored head's era", async () => {
    const { nodes, restart, runTo } = await mineAndTransition(false)
    const head = (nodes[0] as Node).chain.head.header.number
    expect(head).toBeGreaterThanOrEqual(H + 1n)
    // Two of the four restarted: the other two alone hold no two-thirds, so each block from now on
    // needs a restarted validator's votes.
    const restarted = [await restart(2), await restart(3)]
    for (const n of restarted) {
      expect(n.chain.head.header.number).toBeGreaterThanOrEqual(H + 1n)
      // No proof of work after a restart: no work handed out, no mining.
      expect(n.pow.isMining()).toBe(false)
      expect((await cairnError(n.pow.getWork())).code).toBe(PowErrorCode.AFTER_TRANSITION)
    }
    expect(await runTo(head + 3n)).toBe(true)
    const hashes = async (n: Node) =>
      Promise.all(
        [H, head + 1n, head + 3n].map(async (h) => bytesToHex((await n.chain.getCanonicalHash(h)) as Uint8Array)),
      )
    const reference = await hashes(nodes[0] as Node)
    for (const n of nodes) expect(await hashes(n)).toEqual(reference)
    for (const n of restarted) {
      expect((await n.chain.checkpoint('finalized')).header.number).toBeGreaterThanOrEqual(head + 2n)
      expect((await n.chain.getBlockByNumber(head + 1n))?.header.difficulty).toBe(0n)
    }
  }, 60_000)

  it('two terminal blocks at H − 1, the validators split between them: they agree on one and commit H on it', async () => {
    const { nodes, mined, runTo } = await mineAndTransition(false, true)
    expect(await runTo(H + 1n)).toBe(true)
    const [x, y] = mined.slice(-2) as [Block, Block]
    const reference = nodes[0] as Node
    const first = (await reference.chain.getBlockByNumber(H)) as Block
    const terminal = bytesToHex(first.header.parentHash)
    expect([bytesToHex(x.hash()), bytesToHex(y.hash())]).toContain(terminal)
    for (const n of nodes) {
      expect(bytesToHex((await n.chain.getCanonicalHash(H - 1n)) as Uint8Array)).toBe(terminal)
      expect(bytesToHex((await n.chain.getCanonicalHash(H)) as Uint8Array)).toBe(bytesToHex(first.hash()))
      expect((await n.chain.checkpoint('finalized')).header.number).toBeGreaterThanOrEqual(H)
    }
  }, 60_000)
})
