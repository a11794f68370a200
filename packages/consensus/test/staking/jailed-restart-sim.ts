/**
 * The seeded simulation of a validator restarted after it was jailed (issue 66 item 5): validator 3
 * of a 4-validator staking network stops, is jailed for downtime while it is down, and comes back
 * as a node process does — a range sync importing what it missed (p2p's import pattern: batches,
 * each block's successor executed ahead while it commits, `harness/range-sync.ts`) while its engine
 * catches up from the consensus topic and jumps to the heights the chain made final. Its commits
 * take a seed's number of event-loop turns (a LevelDB write), so the sync's execution ahead, the
 * engine's catch-up and the commits interleave differently per seed. It is crashed and restarted
 * again at the phases of that the seed picks (the moment its chain reaches each phase's point):
 * during the range sync (below the jailing height), at the jailing height (J - 1 to J + 2), mid
 * catch-up (past it, the network still ahead) and right after the chain's finality passed its
 * engine's height (the engine jumps); its consensus topic delivers a seed's while after each start.
 *
 * After each phase and at the end it must catch up; every node must agree on every block; the
 * schedule of the restarted node must equal the contract's sets (H+2 = activeSet after H); no block
 * of the canonical chain is held bad on it; and no honest peer was blamed for a block it served.
 * Replay: JAILED_SEED=N npx vitest run packages/consensus/test/staking/jailed-restart-network.test.ts
 * Many: node --import tsx packages/consensus/test/staking/jailed-restart-soak.ts --seeds 50 [--from 0]
 */
import { bytesToHex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { setFollowsContract } from '../../src/index.ts'
import { Prng } from '../bft/sim/prng.ts'
import { BftNetwork, type BftNode } from '../harness/bft-network.ts'
import { SimRangeSync } from '../harness/range-sync.ts'
import { SlowCommitKV } from '../harness/slow-commit-kv.ts'
import { contractSetKey, engineSetKey } from './read-staking.ts'

export type RestartPhase = 'sync' | 'jail' | 'catch-up' | 'jump'
export const PHASES: readonly RestartPhase[] = ['sync', 'jail', 'catch-up', 'jump']

export interface JailedRestartScenario {
  seed: number
  /** Blocks between epoch updates (1: every block returns the contract's set). */
  epochLength: number
  /** Validator 3 stops at this height. */
  downAt: number
  /** How many heights past its jailing the network goes before it comes back. */
  gap: number
  /** Event-loop turns a commit of the restarted node takes. */
  commitTurns: number
  delayMs: number
  loss: number
  sync: { batch: number; chunk: number; delayMs: number }
  /** Its engine starts before its range sync (else right after the sync's first batch is asked). */
  engineFirst: boolean
  /** The crash during the range sync comes at its stop height + this (below the jailing height). */
  syncCrashOffset: number
  /** The crash at the jailing height J comes at J + this. */
  jailCrashOffset: number
  /** The phases it is crashed and restarted in, in this order (the seed leaves some out). */
  phases: RestartPhase[]
  /** After each start, how long until its consensus topic delivers (ms): its range sync runs meanwhile. */
  meshDelayMs: number
}

export function drawJailedRestart(seed: number): JailedRestartScenario {
  const rng = new Prng(seed)
  return {
    seed,
    epochLength: rng.pick([1, 2, 3, 4]),
    downAt: rng.int(3, 5),
    gap: rng.int(8, 14),
    commitTurns: rng.pick([0, 10, 40, 100]),
    delayMs: rng.pick([10, 20, 50]),
    loss: rng.pick([0, 0, 0.02]),
    // Small batches, slow answers: the catch-up lasts long enough to restart it at every phase.
    sync: { batch: rng.pick([2, 4, 8]), chunk: rng.pick([2, 4]), delayMs: rng.pick([300, 600, 1000]) },
    engineFirst: rng.chance(0.5),
    syncCrashOffset: rng.int(1, 3),
    jailCrashOffset: rng.int(-1, 2),
    phases: PHASES.filter(() => rng.chance(0.6)),
    meshDelayMs: rng.pick([0, 1000, 3000]),
  }
}

export interface JailedRestartRun {
  violations: string[]
  /** The phases a restart happened in (a phase the node went through too fast to hit is left out). */
  restarted: RestartPhase[]
  jailedAt: number
}

const FAULTY = 3

/** Runs one scenario and checks every invariant; the violations say what broke where. */
export async function runJailedRestart(s: JailedRestartScenario): Promise<JailedRestartRun> {
  const kv = new SlowCommitKV()
  const net = await BftNetwork.create({
    validators: 4,
    delayMs: s.delayMs,
    loss: s.loss,
    seed: s.seed,
    kv: (i) => (i === FAULTY ? kv : new SlowCommitKV()),
    staking: {
      params: [
        `staking.epochLength=${s.epochLength}`,
        'staking.signedBlocksWindow=6',
        'staking.minSignedPerWindowBps=5000',
        'staking.downtimeJailSeconds=2',
      ],
    },
  })
  const violations: string[] = []
  const restarted: RestartPhase[] = []
  const syncs: SimRangeSync[] = []
  let sync: SimRangeSync | undefined
  const lead = () => net.nodes[0] as BftNode
  const node = () => net.nodes[FAULTY] as BftNode
  const head = (n: BftNode) => Number(n.chain.head.header.number)
  const address = () => bytesToHex(node().engine.address as Uint8Array)
  const inSet = (n: BftNode, h: number) => n.engine.validatorsAt(h).indexOf(node().engine.address as Uint8Array) >= 0

  /** Validator 3 as a node process starts: its chain opened, its range sync and its engine. */
  let incarnation = 0
  const comeBack = async (): Promise<void> => {
    const n = await net.reopen(FAULTY)
    kv.turns = s.commitTurns
    // Its consensus topic joins a while after its range sync starts (a gossip mesh forms in seconds).
    const me = ++incarnation
    net.clock.setTimeout(() => {
      if (me === incarnation) net.silent.delete(FAULTY)
    }, s.meshDelayMs)
    sync = new SimRangeSync(
      { ...s.sync, retryMs: 500 },
      {
        node: n,
        peers: () => net.nodes.filter((p) => p.index !== FAULTY),
        clock: net.clock,
        track: (w) => net.track(w),
      },
    )
    syncs.push(sync)
    if (s.engineFirst) await n.engine.start()
    sync.start()
    if (!s.engineFirst) await n.engine.start()
  }
  /** Validator 3 crashes (its sync and engine stop mid-way) and comes back. */
  const crashAndComeBack = async (phase: RestartPhase): Promise<void> => {
    restarted.push(phase)
    sync?.stop()
    await net.settle()
    await comeBack()
  }

  try {
    await net.start()
    if (!(await net.runUntil(() => head(node()) >= s.downAt, 60_000))) {
      violations.push(`no progress to height ${s.downAt}`)
      return { violations, restarted, jailedAt: -1 }
    }
    // Down: nothing in, nothing out, its engine stopped.
    net.silent.add(FAULTY)
    await node().engine.stop()
    const down = head(node())
    // Jailed while down: the network's set two heights after the jailing block leaves it out.
    const jailed = () => !inSet(lead(), head(lead()) + 1)
    if (!(await net.runUntil(jailed, 240_000))) {
      violations.push('validator 3 was never jailed')
      return { violations, restarted, jailedAt: -1 }
    }
    let jailedAt = head(lead()) - 1
    while (jailedAt > down && !inSet(lead(), jailedAt + 1)) jailedAt--
    const back = head(lead()) + s.gap
    if (!(await net.runUntil(() => head(lead()) >= back, 120_000))) {
      violations.push(`no progress to height ${back} while validator 3 is down`)
      return { violations, restarted, jailedAt }
    }

    await comeBack()
    // Each phase: it crashes the moment its chain reaches the phase's point — nothing in or out from
    // then, its sync stopped (what its engine had queued still runs, as a process dies a little
    // after) — and comes back. A phase it is already past is skipped.
    const blamed = () => syncs.some((x) => x.penalties.length > 0)
    const phases: [RestartPhase, (n: BftNode, from: number) => (h: number, final: boolean) => boolean][] = [
      // During the range sync, below the jailing height.
      ['sync', () => (h, final) => !final && h >= down + s.syncCrashOffset && h < jailedAt - 1],
      // At the jailing height (J - 1 to J + 2: the block before it, it, the two that carry and follow
      // its removal).
      ['jail', () => (h, final) => !final && h >= jailedAt + s.jailCrashOffset],
      // Mid catch-up: past the jailing height, the network still ahead.
      ['catch-up', () => (h, final) => !final && h >= jailedAt + 2],
      // Right after the chain made final a height past the machine's: its engine jumps there.
      ['jump', (_n, from) => (h, final) => final && h >= from],
    ]
    for (const [phase, point] of phases) {
      if (!s.phases.includes(phase)) continue
      const n = node()
      if (head(n) >= head(lead()) - 1) break
      const hit = point(n, n.engine.snapshot()?.height ?? head(n) + 1)
      let crashed = false
      const crash = (h: number, final: boolean) => {
        if (crashed || !hit(h, final)) return
        crashed = true
        net.silent.add(FAULTY)
        sync?.stop()
      }
      const onHead = ({ block }: { block: Block }) => crash(Number(block.header.number), false)
      const onFinal = ({ block }: { block: { number: bigint } }) => crash(Number(block.number), true)
      n.chain.events.on('newHead', onHead)
      n.chain.events.on('finalized', onFinal)
      await net.runUntil(() => crashed || head(n) >= head(lead()) || blamed(), 60_000)
      n.chain.events.off('newHead', onHead)
      n.chain.events.off('finalized', onFinal)
      if (crashed) await crashAndComeBack(phase)
      if (blamed()) break
    }

    // It catches up, and every node goes on.
    const goal = head(lead())
    if (!(await net.runUntil(() => head(node()) >= goal || blamed(), 120_000)) || head(node()) < goal) {
      const refused = syncs.flatMap((x) => x.refusals).slice(-3)
      violations.push(`validator 3 stuck at ${head(node())} below ${goal}: ${JSON.stringify(refused, replacer)}`)
    }
    const blames = syncs.flatMap((x) => x.penalties)
    for (const p of blames.slice(0, 3)) {
      violations.push(`peer ${p.peer} blamed for block ${p.height} it served: ${p.code} ${p.message}`)
    }
    if (blames.length > 3) violations.push(`... and ${blames.length - 3} more blames of honest peers`)
    if (blames.length > 0) {
      violations.push(`(validator ${address()} jailed at ${jailedAt}, phases ${restarted})`)
      return { violations, restarted, jailedAt }
    }
    const tail = head(lead()) + 3
    if (!(await net.runUntil(() => net.nodes.every((n) => head(n) >= tail), 120_000))) {
      violations.push(`liveness: not every node reached ${tail} (${net.nodes.map(head).join(', ')})`)
    }
    const top = Math.min(...net.nodes.map(head))
    for (let h = 1; h <= top; h++) {
      const hashes = new Set<string>()
      for (const n of net.nodes) hashes.add(bytesToHex((await n.chain.getCanonicalHash(BigInt(h))) as Uint8Array))
      if (hashes.size !== 1) violations.push(`agreement: ${hashes.size} blocks at height ${h}`)
    }
    // No canonical block is held bad: offered again, each one is known.
    for (let h = down + 1; h <= top; h++) {
      const block = (await lead().chain.getBlockByNumber(BigInt(h))) as Block
      const r = await node().chain.processBlock(block.serialize(), { source: 'sync', peer: '0' })
      if (r.status !== 'known') {
        violations.push(`block ${h} offered again: ${r.status === 'error' ? r.error.message : r.status}`)
      }
    }
    // The set rule (src/staking/invariants.ts), on the restarted node.
    const contract = new Map<number, string>()
    for (let h = 1; h + 2 <= top; h++)
      contract.set(h, await contractSetKey(lead(), (await lead().chain.getBlockByNumber(BigInt(h))) as Block))
    const mismatches = setFollowsContract(
      3,
      top,
      (h) => engineSetKey(node(), h),
      (h) => contract.get(h),
    )
    for (const m of mismatches)
      violations.push(`validator 3's set of ${m.height} is not the contract's after ${m.height - 2}`)
    if (violations.length > 0) violations.push(`(validator ${address()} jailed at ${jailedAt}, phases ${restarted})`)
    return { violations, restarted, jailedAt }
  } finally {
    sync?.stop()
    await net.stop()
  }
}

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

export function replayJailedRestartCommand(seed: number): string {
  return `JAILED_SEED=${seed} npx vitest run packages/consensus/test/staking/jailed-restart-network.test.ts`
}
