// The seeded GhostDAG network simulator: miners find blocks as a Poisson process at a high rate,
// each naming its node's tips; blocks and transfers reach every other node after a random delay
// (up to D), held across a partition until it heals; an attacker may mine in private and release
// its blocks later, carrying a double spend of a payment the honest network accepted. When mining
// stops, every message is delivered and an honest node merges the tips, so all nodes hold one DAG.
import { createHash } from 'node:crypto'
import {
  type AccountState,
  type BlockHash,
  type GhostdagMetrics,
  kaspaLimits,
  type Transfer,
} from '../../../src/ghostdag/index.ts'
import { EventQueue, exponential, seeded } from './events.ts'
import { type SimBlock, SimNode } from './sim-node.ts'

export interface DagSimOptions {
  seed: number
  /** Honest mining nodes (each also a full node). */
  miners: number
  /** λ: blocks a second over all miners, the attacker included. */
  blocksPerSecond: number
  /** D: each block and transfer reaches each other node after a delay uniform in [0, D]. */
  maxDelaySeconds: number
  k: number
  /** How long the miners mine. */
  seconds: number
  /** Transfers sent a second, by users who read the state of node 0. */
  txPerSecond: number
  accounts: number
  txPerBlock: number
  /** A withholding attacker with this share of the hash rate: private from `withholdFrom` to `releaseAt`. */
  attacker?: { share: number; withholdFrom: number; releaseAt: number }
  /** The honest nodes split by parity; messages across are held until `to`. */
  partition?: { from: number; to: number }
  /** Node 0's metrics. */
  metrics?: GhostdagMetrics
  /** Called every `every` seconds of mining with the nodes as they stand. */
  checkpoint?: { every: number; run: (now: number, nodes: readonly SimNode[]) => void }
}

export interface DagSimResult {
  opts: DagSimOptions
  nodes: SimNode[]
  blocks: Map<BlockHash, SimBlock>
  genesis: BlockHash
  genesisState: AccountState
  /**
   * The attacker's double spend: the payment sent publicly, the conflicting transfer it mined in
   * private, and whether node 0 had the payment applied when the attacker released its blocks
   * (a merchant who waited for that must keep it).
   */
  doubleSpend?: { payment: Transfer; conflict: Transfer; acceptedAtRelease: boolean }
  txsSent: number
}

const INITIAL_BALANCE = 1_000_000n

export function accountName(i: number): string {
  return `acct${i}`
}

export function runDagSim(opts: DagSimOptions): DagSimResult {
  const rand = seeded(opts.seed)
  const q = new EventQueue()
  const maxParents = kaspaLimits(opts.k).maxParents
  let counter = 0
  const hashOf = (what: string): BlockHash =>
    `0x${createHash('sha256').update(`${opts.seed}:${what}:${counter++}`).digest('hex')}`
  const genesis = hashOf('genesis')
  const genesisState: AccountState = new Map()
  for (let i = 0; i < opts.accounts; i++) genesisState.set(accountName(i), { nonce: 0, balance: INITIAL_BALANCE })
  genesisState.set('attacker', { nonce: 0, balance: INITIAL_BALANCE })

  const blocks = new Map<BlockHash, SimBlock>()
  const txsOf = (hash: BlockHash) => blocks.get(hash)?.txs ?? []
  const attackerId = opts.attacker ? opts.miners : -1
  const nodes: SimNode[] = []
  for (let i = 0; i < opts.miners + (opts.attacker ? 1 : 0); i++) {
    nodes.push(new SimNode(i, { k: opts.k, genesis, genesisState }, txsOf, () => q.now, i === 0 ? opts.metrics : null))
  }
  const withholding = (t: number) =>
    opts.attacker !== undefined && t >= opts.attacker.withholdFrom && t < opts.attacker.releaseAt
  /** Messages the attacker's node ignores while it mines in private, taken in at release. */
  const heldByAttacker: SimBlock[] = []
  const withheld: SimBlock[] = []

  const delay = (from: number, to: number): number => {
    const d = rand() * opts.maxDelaySeconds
    const p = opts.partition
    if (p && from < opts.miners && to < opts.miners && from % 2 !== to % 2 && q.now >= p.from && q.now < p.to) {
      return p.to - q.now + d
    }
    return d
  }
  const deliverBlock = (to: SimNode, block: SimBlock) => {
    if (to.id === attackerId && withholding(q.now)) heldByAttacker.push(block)
    else to.receive(block)
  }
  const broadcast = (block: SimBlock, from: number) => {
    for (const n of nodes) if (n.id !== from) q.at(q.now + delay(from, n.id), () => deliverBlock(n, block))
  }
  const gossipTx = (tx: Transfer) => {
    for (const n of nodes) q.at(q.now + delay(0, n.id), () => n.pool.set(tx.id, tx))
  }

  let doubleSpend: DagSimResult['doubleSpend']
  const mine = (node: SimNode, honest: boolean, extra: Transfer[] = [], withheld = false) => {
    const txs = [...extra, ...node.pickTransactions(opts.txPerBlock - extra.length, rand)]
    const block: SimBlock = {
      hash: hashOf('block'),
      parents: node.parentsForNewBlock(maxParents),
      txs,
      miner: node.id,
      honest,
      withheld,
      minedAt: q.now,
    }
    blocks.set(block.hash, block)
    node.receive(block)
    return block
  }

  // Mining: one Poisson process of rate λ; each block goes to a miner by hash share.
  const scheduleMining = () => {
    q.at(q.now + exponential(rand, opts.blocksPerSecond), () => {
      if (q.now >= opts.seconds) return
      const a = opts.attacker
      if (a && rand() < a.share) {
        const node = nodes[attackerId]!
        if (withholding(q.now)) {
          const conflict = doubleSpend && withheld.length === 0 ? [doubleSpend.conflict] : []
          withheld.push(mine(node, false, conflict, true))
        } else broadcast(mine(node, false), attackerId)
      } else {
        const node = nodes[Math.floor(rand() * opts.miners)]!
        broadcast(mine(node, true), node.id)
      }
      scheduleMining()
    })
  }
  scheduleMining()

  // Users: each transfer from a random account, with the nonce node 0's state gives it (two
  // transfers sent before the first is accepted share a nonce: one of them is skipped); one in 20
  // spends more than the account holds.
  let txsSent = 0
  const scheduleTx = () => {
    q.at(q.now + exponential(rand, opts.txPerSecond), () => {
      if (q.now >= opts.seconds) return
      const from = accountName(Math.floor(rand() * opts.accounts))
      const to = accountName(Math.floor(rand() * opts.accounts))
      const acct = nodes[0]!.ex.state.get(from) ?? { nonce: 0, balance: 0n }
      const value = rand() < 0.05 ? acct.balance + 1n : BigInt(Math.floor(rand() * Number(acct.balance / 4n)))
      gossipTx({ id: `tx${txsSent++}`, from, to, nonce: acct.nonce, value })
      scheduleTx()
    })
  }
  scheduleTx()

  if (opts.attacker) {
    const a = opts.attacker
    // Just as it starts withholding, the attacker pays a merchant in public and keeps, for its
    // first private block, a transfer of the same nonce back to itself.
    q.at(a.withholdFrom, () => {
      const payment: Transfer = { id: 'payment', from: 'attacker', to: 'merchant', nonce: 0, value: INITIAL_BALANCE }
      doubleSpend = { payment, conflict: { ...payment, id: 'conflict', to: 'attacker2' }, acceptedAtRelease: false }
      gossipTx(payment)
    })
    q.at(a.releaseAt, () => {
      const observer = nodes[0]!.ex
      doubleSpend!.acceptedAtRelease = observer.chain.some((c) =>
        observer.acceptance(c)?.txs.some((x) => x.tx.id === 'payment' && x.outcome.applied),
      )
      for (const b of withheld) broadcast(b, attackerId)
      const node = nodes[attackerId]!
      for (const b of heldByAttacker.splice(0)) node.receive(b)
    })
  }

  const cp = opts.checkpoint
  if (cp) for (let t = cp.every; t < opts.seconds; t += cp.every) q.at(t, () => cp.run(q.now, nodes))

  q.runUntil(Number.POSITIVE_INFINITY)
  // Everything is delivered: an honest node merges every tip (maxParents at a time), each merge
  // reaching every node at once, until one tip is left.
  const merger = nodes[0]!
  while (merger.tips.size > 1) {
    const b = mine(merger, true)
    for (const n of nodes) n.receive(b)
  }
  const b = mine(merger, true)
  for (const n of nodes) n.receive(b)
  return { opts, nodes, blocks, genesis, genesisState, doubleSpend, txsSent }
}
