// What the simulator checks, computed apart from the engine where it can be: pasts as bit sets
// built from parents alone (not the reachability index), the k-cluster property by counting
// anticones over them, and the executed order, state and transfers of every node.
import { createHash } from 'node:crypto'
import type { AccountState, BlockHash, Transfer } from '../../../src/ghostdag/index.ts'
import type { DagSimResult } from './dag-sim.ts'
import type { SimNode } from './sim-node.ts'

/** past(B) of every block as a bit set over a topological order, from parents alone. */
export class Pasts {
  readonly index = new Map<BlockHash, number>()
  readonly #bits: Uint32Array[] = []
  readonly #words: number

  constructor(order: readonly BlockHash[], parentsOf: (h: BlockHash) => readonly BlockHash[]) {
    this.#words = Math.ceil(order.length / 32)
    order.forEach((h, i) => {
      const bits = new Uint32Array(this.#words)
      for (const p of parentsOf(h)) {
        const j = this.index.get(p)
        if (j === undefined) throw new Error(`${h} before its parent ${p}`)
        const pb = this.#bits[j]!
        for (let w = 0; w < this.#words; w++) bits[w]! |= pb[w]!
        bits[j >>> 5]! |= 1 << (j & 31)
      }
      this.index.set(h, i)
      this.#bits.push(bits)
    })
  }

  /** `a` is in the past of `b` (strictly). */
  inPast(a: BlockHash, b: BlockHash): boolean {
    const i = this.index.get(a)!
    return (this.#bits[this.index.get(b)!]![i >>> 5]! & (1 << (i & 31))) !== 0
  }

  /** The past of `b` (strictly). */
  pastOf(b: BlockHash, order: readonly BlockHash[]): BlockHash[] {
    return order.filter((a) => a !== b && this.inPast(a, b))
  }
}

/** The blue set of `top` in `node`'s DAG: the mergeset blues down its selected chain, and itself. */
export function blueSet(node: SimNode, top: BlockHash): Set<BlockHash> {
  const blues = new Set<BlockHash>([top])
  for (let h = top; h !== node.bd.ghostdag.genesis; h = node.bd.get(h)!.selectedParent) {
    for (const b of node.bd.get(h)!.mergesetBlues) blues.add(b)
  }
  return blues
}

/** The largest number of blues of `blues` in the anticone of one of them (a k-cluster: at most K). */
export function maxBlueAnticone(blues: Set<BlockHash>, pasts: Pasts): number {
  const list = [...blues]
  const sizes = new Array<number>(list.length).fill(0)
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      if (!pasts.inPast(list[i]!, list[j]!) && !pasts.inPast(list[j]!, list[i]!)) {
        sizes[i]!++
        sizes[j]!++
      }
    }
  }
  return Math.max(0, ...sizes)
}

/** A node's executed history: chain, every accepted transfer and its outcome, and the state's digest. */
export function executedHistory(node: SimNode): { chain: BlockHash[]; accepted: string[]; stateRoot: string } {
  const accepted: string[] = []
  for (const c of node.ex.chain.slice(1)) {
    for (const x of node.ex.acceptance(c)!.txs) {
      accepted.push(`${c}:${x.block}:${x.index}:${x.tx.id}:${x.outcome.applied ? 'ok' : x.outcome.reason}`)
    }
  }
  return { chain: [...node.ex.chain], accepted, stateRoot: stateRoot(node.ex.state) }
}

export function stateRoot(state: AccountState): string {
  const entries = [...state.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
  return createHash('sha256')
    .update(JSON.stringify(entries, (_, v) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('hex')
}

export interface SimStats {
  blocks: number
  honestBlocks: number
  attackerBlocks: number
  /** Honest blocks in the final blue set over honest blocks below the final sink (and it). */
  honestBlueRatio: number
  withheldBlocks: number
  /** Withheld attacker blocks that are red in the final blue set. */
  withheldRedRatio: number
  chainLength: number
  /** The most chain blocks an honest node rolled back at once. */
  maxReorgDepth: number
  /** Applied transfers that later lost their nonce to a conflicting one, over the honest nodes. */
  flips: number
  /** The longest such a transfer had been applied, in seconds: what a user waits for. */
  maxFlipAge: number
  txsSent: number
  txsIncluded: number
  applied: number
  skipped: Record<string, number>
  maxBlueAnticone: number
  meanMergeset: number
}

export function simStats(r: DagSimResult, pasts: Pasts): SimStats {
  const node = r.nodes[0]!
  const sink = node.bd.sink
  const blues = blueSet(node, sink)
  let honest = 0
  let honestBlue = 0
  let attacker = 0
  let withheld = 0
  let withheldRed = 0
  for (const b of r.blocks.values()) {
    const below = b.hash === sink || pasts.inPast(b.hash, sink)
    if (b.honest) {
      honest++
      if (below) honestBlue += blues.has(b.hash) ? 1 : 0
    } else {
      attacker++
      if (b.withheld) {
        withheld++
        if (below && !blues.has(b.hash)) withheldRed++
      }
    }
  }
  const honestBelow = [...r.blocks.values()].filter((b) => b.honest && (b.hash === sink || pasts.inPast(b.hash, sink)))
  const skipped: Record<string, number> = {}
  let applied = 0
  let mergesetTotal = 0
  const chain = node.ex.chain.slice(1)
  for (const c of chain) {
    const acc = node.ex.acceptance(c)!
    mergesetTotal += acc.mergeset.length
    for (const x of acc.txs) {
      if (x.outcome.applied) applied++
      else skipped[x.outcome.reason] = (skipped[x.outcome.reason] ?? 0) + 1
    }
  }
  let txsIncluded = 0
  const honestNodes = r.nodes.slice(0, r.opts.miners)
  for (const b of r.blocks.values()) txsIncluded += b.txs.length
  return {
    blocks: r.blocks.size,
    honestBlocks: honest,
    attackerBlocks: attacker,
    honestBlueRatio: honestBelow.length === 0 ? 1 : honestBlue / honestBelow.length,
    withheldBlocks: withheld,
    withheldRedRatio: withheld === 0 ? 0 : withheldRed / withheld,
    chainLength: chain.length,
    maxReorgDepth: Math.max(...honestNodes.map((n) => n.maxReorgDepth)),
    flips: honestNodes.reduce((a, n) => a + n.flips, 0),
    maxFlipAge: Math.max(...honestNodes.map((n) => n.maxFlipAge)),
    txsSent: r.txsSent,
    txsIncluded,
    applied,
    skipped,
    maxBlueAnticone: maxBlueAnticone(blues, pasts),
    meanMergeset: chain.length === 0 ? 0 : mergesetTotal / chain.length,
  }
}

/** Every applied transfer once (by id and by sender nonce), and no value made or lost. */
export function checkTransfers(node: SimNode, genesisState: AccountState): string[] {
  const errors: string[] = []
  const ids = new Set<string>()
  const nonces = new Set<string>()
  const applied: Transfer[] = []
  for (const c of node.ex.chain.slice(1)) {
    for (const x of node.ex.acceptance(c)!.txs) if (x.outcome.applied) applied.push(x.tx)
  }
  for (const tx of applied) {
    if (ids.has(tx.id)) errors.push(`transfer ${tx.id} executed twice`)
    ids.add(tx.id)
    const key = `${tx.from}:${tx.nonce}`
    if (nonces.has(key)) errors.push(`nonce ${key} used twice`)
    nonces.add(key)
  }
  const total = (s: AccountState) => [...s.values()].reduce((a, v) => a + v.balance, 0n)
  if (total(node.ex.state) !== total(genesisState)) errors.push('the total balance changed')
  for (const [from, acct] of node.ex.state) {
    const sent = applied.filter((t) => t.from === from).length
    if (acct.nonce !== sent) errors.push(`${from}'s nonce ${acct.nonce} but ${sent} transfers applied`)
  }
  return errors
}

/**
 * The node's DagView (what cairn_getDagInfo and cairn_getBlockDagData answer) against the DAG:
 * tips, counts, children, and each block's accepting chain block and colour against the sink's
 * blue set and past.
 */
export function checkView(node: SimNode, pasts: Pasts, parentsOf: (h: BlockHash) => readonly BlockHash[]): string[] {
  const errors: string[] = []
  const info = node.view.info()
  const sink = node.bd.sink
  const blues = blueSet(node, sink)
  const past = new Set(pasts.pastOf(sink, node.order))
  if (info.virtualSelectedParent !== sink) errors.push('the view is not at the sink')
  if (info.tips.join() !== [...node.tips].sort().join()) errors.push('tips differ')
  if (info.blockCount !== node.order.length) errors.push('block count differs')
  if (info.chainBlockCount !== node.ex.chain.length - 1) errors.push('chain block count differs')
  if (info.blueBlockCount + info.redBlockCount !== past.size) errors.push("accepted blocks are not the sink's past")
  if (info.blueBlockCount !== blues.size - 1) errors.push("blue count is not the sink's blue set")
  if (info.daaScore !== String(past.size)) errors.push(`DAA score ${info.daaScore}, want ${past.size}`)
  let applied = 0
  for (const c of node.ex.chain.slice(1)) for (const x of node.ex.acceptance(c)!.txs) if (x.outcome.applied) applied++
  if (info.appliedTxCount !== applied)
    errors.push(`${info.appliedTxCount} applied transactions counted, want ${applied}`)
  const children = new Map<BlockHash, BlockHash[]>()
  for (const h of node.order)
    for (const p of h === node.bd.ghostdag.genesis ? [] : parentsOf(h)) children.set(p, [...(children.get(p) ?? []), h])
  for (const h of node.order) {
    const d = node.view.blockData(h)!
    if (d.children.join() !== (children.get(h) ?? []).join()) errors.push(`children of ${h} differ`)
    if (h !== node.bd.ghostdag.genesis && d.parents[0] !== d.selectedParent)
      errors.push(`${h}: parents do not start with the selected parent`)
    const wantColor = past.has(h) ? (blues.has(h) ? 'blue' : 'red') : null
    if (d.color !== wantColor) errors.push(`${h} is ${d.color}, want ${wantColor}`)
    if ((d.acceptingBlock === null) !== !past.has(h)) errors.push(`${h}: accepting block ${d.acceptingBlock}`)
    if (d.acceptingBlock && !node.ex.acceptance(d.acceptingBlock)?.mergeset.includes(h))
      errors.push(`${h} not in its accepting block's mergeset`)
    if (d.isChainBlock !== node.ex.chain.includes(h)) errors.push(`${h}: isChainBlock wrong`)
  }
  return errors
}
