/**
 * The simulated world: virtual time (a priority queue), the network (random delay, reordering,
 * loss, duplication, partitions), crashes and restarts, and the invariant checks. Everything random
 * comes from one seeded PRNG, so a seed replays exactly.
 */
import {
  type BftEvent,
  type Timeout,
  type TimeoutConfig,
  type ValidatorChange,
  ValidatorSchedule,
  type ValidatorSet,
} from '../../../src/index.ts'
import { fastCrypto, type SimCrypto, secpCrypto, simKey } from './keys.ts'
import { SimNode, type WireMsg } from './node.ts'
import { Prng } from './prng.ts'
import { EventQueue } from './queue.ts'
import { Recorder } from './recorder.ts'
import type { Scenario } from './scenario.ts'

type Item =
  | { k: 'deliver'; from: number; to: number; msg: WireMsg }
  | { k: 'local'; node: SimNode; incarnation: number; event: BftEvent; logged: boolean }
  | { k: 'timeout'; node: SimNode; incarnation: number; timeout: Timeout }
  | { k: 'gossip'; node: SimNode; incarnation: number }
  | { k: 'crash'; node: SimNode; downMs: number }
  | { k: 'restart'; node: SimNode }
  | { k: 'partition'; groups: number[] | null }

export const SIM_TIMEOUTS: TimeoutConfig = {
  proposeMs: 1000,
  proposeDeltaMs: 500,
  prevoteMs: 500,
  prevoteDeltaMs: 250,
  precommitMs: 500,
  precommitDeltaMs: 250,
  commitMs: 0,
}
const GOSSIP_MS = 700

export interface SimResult {
  seed: number
  violations: string[]
  /** Virtual ms from healing until every correct validator committed every height. */
  livenessMs: number
  virtualMs: number
  events: number
  /** The highest round any block was committed in. */
  maxRound: number
  evidence: number
  refusals: number
  /** WAL records torn by crashes mid-append (cut off at the restart). */
  tornWalRecords: number
  /** Restarts that replayed a whole WAL (checked to be back in their round and lock). */
  walRestarts: number
  /** Validator-set changes that took effect within the run's heights. */
  setChanges: number
  /** Votes and proposals signed by honest validators that joined through a change. */
  joinedSignatures: number
}

export interface SimOptions {
  /** The signature scheme: real secp256k1 (memoized) or the fast stand-in (default). */
  signatures?: 'secp256k1' | 'fast'
  /** Virtual ms after healing within which every height must be committed (liveness). */
  livenessBoundMs?: number
  maxEvents?: number
}

export class World {
  readonly chainId = 4242n
  readonly timeouts = SIM_TIMEOUTS
  readonly rng: Prng
  readonly crypto: SimCrypto
  readonly recorder = new Recorder()
  readonly nodes: SimNode[]
  now = 0
  /** The byzantine coalition's split of the network: one half gets one story, the rest the other. */
  readonly splitA: Set<number>
  /** Double proposals made so far, by `height/round`: the two block hashes (coalition knowledge). */
  readonly doubleProposals = new Map<string, [Uint8Array, Uint8Array]>()
  readonly #queue = new EventQueue<Item>()
  readonly #scenario: Scenario
  readonly #schedule: ValidatorSchedule
  #groups: number[] | null = null
  #healed = false

  constructor(scenario: Scenario, opts: { signatures?: 'secp256k1' | 'fast' } = {}) {
    this.#scenario = scenario
    this.crypto = opts.signatures === 'secp256k1' ? secpCrypto(this.chainId) : fastCrypto(this.chainId)
    this.rng = new Prng(scenario.seed ^ 0x5eed)
    // The schedule as a node builds it: genesis, then the changes by height of effect (H+2).
    const changes = new Map<number, ValidatorChange[]>()
    for (const c of scenario.changes) {
      const at = changes.get(c.height) ?? []
      at.push({ address: simKey(c.node).address, votingPower: c.power })
      changes.set(c.height, at)
    }
    this.#schedule = new ValidatorSchedule(
      scenario.powers.map((votingPower, i) => ({ address: simKey(i).address, votingPower })),
      changes,
    )
    this.splitA = new Set(this.rng.half(scenario.behaviours.map((_, i) => i)))
    this.nodes = scenario.behaviours.map((b, i) => new SimNode(this, i, b, scenario.amnesiac[i] ?? false))
  }

  /** The validator set of a height (the scenario's changes applied at their heights). */
  validatorSetAt(height: number): ValidatorSet {
    return this.#schedule.at(height)
  }

  /** True when node `index` is a validator at `height` through a change (it was not in the genesis set). */
  joined(index: number, height: number): boolean {
    return index >= this.#scenario.n && this.#schedule.at(height).indexOf(simKey(index).address) >= 0
  }

  peersOf(index: number): number[] {
    return this.nodes.map((n) => n.index).filter((i) => i !== index)
  }

  send(from: number, to: number, msg: WireMsg): void {
    if (this.#groups !== null && this.#groups[from] !== this.#groups[to]) return
    const net = this.#scenario.net
    const loss = this.#healed ? this.#scenario.healedLoss : net.loss
    if (this.rng.chance(loss)) return
    const copies = this.rng.chance(net.dup) ? 2 : 1
    for (let c = 0; c < copies; c++) {
      this.#queue.push(this.now + this.rng.int(net.minDelayMs, net.maxDelayMs), { k: 'deliver', from, to, msg })
    }
  }

  broadcast(from: number, msg: WireMsg): void {
    for (const to of this.peersOf(from)) this.send(from, to, msg)
  }

  /** An event for a node's machine after `delayMs`; `logged`: already in its WAL (its own signed message). */
  local(node: SimNode, event: BftEvent, delayMs: number, logged = false): void {
    this.#queue.push(this.now + delayMs, { k: 'local', node, incarnation: node.incarnation, event, logged })
  }

  scheduleTimeout(node: SimNode, timeout: Timeout, delayMs: number): void {
    this.#queue.push(this.now + delayMs, { k: 'timeout', node, incarnation: node.incarnation, timeout })
  }

  scheduleGossip(node: SimNode): void {
    this.#queue.push(this.now + GOSSIP_MS + this.rng.int(0, 100), { k: 'gossip', node, incarnation: node.incarnation })
  }

  run(opts: SimOptions = {}): SimResult {
    const s = this.#scenario
    const bound = opts.livenessBoundMs ?? 60_000 + 10_000 * s.heights
    const maxEvents = opts.maxEvents ?? 2_000_000
    for (const c of s.crashes) {
      this.#queue.push(c.at, { k: 'crash', node: this.nodes[c.node] as SimNode, downMs: c.downMs })
    }
    for (const p of s.partitions) {
      this.#queue.push(p.at, { k: 'partition', groups: p.groups })
      this.#queue.push(Math.min(p.at + p.durationMs, s.chaosMs), { k: 'partition', groups: null })
    }
    for (const node of this.nodes) node.boot()
    const correct = this.nodes.filter((n) => n.behaviour === 'honest')
    const done = (): boolean => correct.every((n) => n.chain.length >= s.heights)
    let events = 0
    let livenessMs = -1
    for (;;) {
      if (!this.#healed && this.now >= s.chaosMs) this.#heal()
      if (this.#healed && done()) {
        livenessMs = this.now - s.chaosMs
        break
      }
      if (this.now > s.chaosMs + bound) {
        const heights = correct.map((n) => `${n.index}:${n.chain.length}`).join(' ')
        this.recorder.fail(`liveness: not every height committed ${bound} ms after healing (heights ${heights})`)
        break
      }
      if (++events > maxEvents) {
        this.recorder.fail(`budget: more than ${maxEvents} events`)
        break
      }
      const next = this.#queue.pop()
      if (next === undefined) break
      if (!this.#healed && next.time >= s.chaosMs) {
        this.#queue.push(next.time, next.item)
        this.now = s.chaosMs
        continue
      }
      this.now = next.time
      this.#dispatch(next.item)
    }
    for (const n of correct) this.recorder.checkEvidence(n.index, (a, h, r, t) => n.evidence.has(a, h, r, t))
    return {
      seed: s.seed,
      violations: this.recorder.violations,
      livenessMs,
      virtualMs: this.now,
      events,
      maxRound: this.recorder.maxRound,
      evidence: this.recorder.evidence,
      refusals: this.recorder.refusals,
      tornWalRecords: this.recorder.tornWalRecords,
      walRestarts: this.recorder.walRestarts,
      setChanges: s.changes.filter((c) => c.height <= s.heights).length,
      joinedSignatures: this.recorder.joinedSignatures,
    }
  }

  #heal(): void {
    this.#healed = true
    this.#groups = null
    for (const n of this.nodes) if (n.machine === null) n.boot()
  }

  #dispatch(item: Item): void {
    switch (item.k) {
      case 'deliver': {
        if (this.#groups !== null && this.#groups[item.from] !== this.#groups[item.to]) return
        ;(this.nodes[item.to] as SimNode).receive(item.from, item.msg)
        return
      }
      case 'local':
        if (item.node.incarnation === item.incarnation) item.node.input(item.event, item.logged)
        return
      case 'timeout':
        if (item.node.incarnation === item.incarnation) item.node.input({ kind: 'timeout', timeout: item.timeout })
        return
      case 'gossip':
        if (item.node.incarnation === item.incarnation) {
          item.node.gossip()
          this.scheduleGossip(item.node)
        }
        return
      case 'crash':
        if (this.#healed || item.node.machine === null) return
        item.node.crash()
        this.#queue.push(Math.min(this.now + item.downMs, this.#scenario.chaosMs), { k: 'restart', node: item.node })
        return
      case 'restart':
        if (item.node.machine === null) item.node.boot()
        return
      case 'partition':
        if (!this.#healed) this.#groups = item.groups
        return
    }
  }
}

/** Runs one scenario. */
export function simulate(scenario: Scenario, opts?: SimOptions): SimResult {
  return new World(scenario, opts).run(opts)
}
