// One testbed run: the network and the nodes up, the workload and the nemesis on a seed, every
// fault healed, liveness (every node commits new heights within a bound), then the checker over the
// history and every node's chain. A failing run keeps its directory (node logs, history.jsonl,
// nemesis.log, result.json) and says the command that replays it. Two topologies: `bft` (validators
// and followers of the commits) and `producer` (one dev producer and its p2p followers; its own
// plan, liveness rule and checker: nemesis.ts planFollowerFaults, checker-followers.ts).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { check, Poller } from './checker.ts'
import { checkFollowers, HeadPoller } from './checker-followers.ts'
import { Cluster, type NodeSpec, rpc, rpcBatch, type Topology } from './cluster.ts'
import { type FaultKind, Nemesis, planFaults, planFollowerFaults } from './nemesis.ts'
import { NetLab, reapLeftovers } from './netlab.ts'
import { describePerf, HeadClock, type PerfFigures, perfFigures, txLatency } from './perf.ts'
import { Prng } from './prng.ts'
import { accounts, sleep, type TxRecord, Workload } from './workload.ts'

export interface RunOptions {
  seed: number
  /** `bft` (default): validators + followers of the commits; `producer`: one dev producer + `followers` p2p followers. */
  topology?: Topology
  /** Validators (bft only). */
  validators: number
  followers: number
  durationMs: number
  kinds: readonly FaultKind[]
  byzantine: 'random' | 'always' | 'never' | readonly ('double-propose' | 'double-vote' | 'ignore-lock' | 'silent')[]
  /** How long every node may take to commit 3 new heights once the nemesis has healed everything. */
  livenessMs: number
  faultMs?: [number, number]
  gapMs?: [number, number]
  /** How long acknowledged transactions may take to be mined after the heal before the client sends them again (and as long again after). */
  settleMs?: number
  /** Parent of the run's directory. */
  baseDir: string
  keep: boolean
  senders: number
  /** One more account delegates and undelegates (the set's powers change at every epoch). Default true. */
  staking?: boolean
  /** The `cairn` executable (default: this tree's packages/node/bin/cairn.js). */
  bin?: string
  /**
   * Every link's settings for the whole run (one-way latency and jitter in ms each direction,
   * bandwidth in kbit/s per link), through the userspace relays (link-relay.ts). Default none.
   */
  link?: { latencyMs?: number; jitterMs?: number; kbit?: number }
  /**
   * One node (index) far from the others for the whole run: `latencyMs` one-way on each of its
   * links, both directions (its round trip to any peer: twice that), `lossPct` % of the packets it
   * sends and receives dropped.
   */
  slow?: { node: number; latencyMs: number; lossPct: number }
  /** Relays on every link even when netem/tbf exist or no fault needs them. */
  relays?: boolean
  say: (line: string) => void
}

export interface RunResult {
  seed: number
  ok: boolean
  violations: string[]
  faults: Partial<Record<FaultKind, number>>
  byzantine: string
  acknowledged: number
  lost: number
  unacknowledged: number
  rebroadcast: number
  /** Of those, acknowledged by an honest node (a byzantine node's acknowledgement promises nothing). */
  rebroadcastHonest: number
  evidenceOnChain: number
  /** Heights at which the validator set changed (joins, leaves, powers). */
  setChanges: number
  heights: Record<string, number>
  /** Blocks/s and block intervals at one honest node while the workload and nemesis ran. */
  perf?: PerfFigures
  wallMs: number
  dir: string
  replay: string
}

/** Cleanups of the runs in progress (kill their nodes, remove their network). */
const active = new Set<() => Promise<void>>()

/** Stops every run in progress at once: its nodes killed, its namespaces and bridge removed (a timeout, Ctrl-C). */
export async function abortRuns(): Promise<void> {
  await Promise.all([...active].map((f) => f()))
}

export function replayCommand(o: RunOptions): string {
  const byz = Array.isArray(o.byzantine) ? o.byzantine.join(',') : o.byzantine
  const link = [
    o.link?.latencyMs ? ` --link-latency ${o.link.latencyMs}` : '',
    o.link?.jitterMs ? ` --link-jitter ${o.link.jitterMs}` : '',
    o.link?.kbit ? ` --link-kbit ${o.link.kbit}` : '',
    o.slow ? ` --slow-node ${o.slow.node + 1} --slow-latency ${o.slow.latencyMs} --slow-loss ${o.slow.lossPct}` : '',
    o.relays ? ' --relays' : '',
  ].join('')
  if (o.topology === 'producer')
    return `npm run chaos -- --topology producer --seed ${o.seed} --followers ${o.followers} --duration ${o.durationMs / 1000} --faults ${o.kinds.join(',') || 'none'} --liveness ${o.livenessMs / 1000}${link}`
  return `npm run chaos -- --seed ${o.seed} --nodes ${o.validators} --followers ${o.followers} --duration ${o.durationMs / 1000} --faults ${o.kinds.join(',') || 'none'} --byzantine ${byz}${link}`
}

async function heightOf(url: string): Promise<number> {
  return Number(await rpc<string>(url, 'eth_blockNumber', [], 3_000))
}

export async function runOnce(o: RunOptions): Promise<RunResult> {
  const t0 = Date.now()
  const dir = join(o.baseDir, `seed-${o.seed}-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  mkdirSync(dir, { recursive: true })
  const logLines: string[] = []
  const say = (line: string) => {
    line = `[${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`
    logLines.push(line)
    o.say(line)
  }
  const reaped = reapLeftovers()
  if (reaped.length) say(`removed leftovers of a killed run: ${reaped.join(' ')}`)
  const byzOpt = o.byzantine === 'always' ? BYZ_ALL : o.byzantine
  const producerTopology = o.topology === 'producer'
  const timing = { ...(o.faultMs ? { faultMs: o.faultMs } : {}), ...(o.gapMs ? { gapMs: o.gapMs } : {}) }
  const plan = producerTopology
    ? planFollowerFaults(new Prng(o.seed), {
        followers: o.followers,
        durationMs: o.durationMs,
        kinds: o.kinds,
        ...timing,
      })
    : planFaults(new Prng(o.seed), {
        validators: o.validators,
        followers: o.followers,
        durationMs: o.durationMs,
        kinds: o.kinds,
        byzantine: byzOpt,
        ...timing,
      })
  const lab = new NetLab()
  let cluster: Cluster | undefined
  const cleanup = async () => {
    await cluster?.killAll()
    lab.destroy()
  }
  active.add(cleanup)
  const violations: string[] = []
  let result: RunResult | undefined
  const replay = replayCommand(o)
  try {
    cluster = new Cluster(lab, dir, {
      validators: o.validators,
      followers: o.followers,
      topology: o.topology ?? 'bft',
      ...(plan.diskNode !== undefined ? { tmpfsNode: plan.diskNode } : {}),
      ...(o.bin ? { bin: o.bin } : {}),
    })
    const c = cluster
    const byzNode = plan.byzantine ? c.nodes[plan.byzantine.node] : undefined
    if (byzNode && plan.byzantine) byzNode.byzantine = plan.byzantine.mode
    // The userspace link emulator: for a whole-run link setting, or for the latency/bandwidth
    // faults where the kernel lacks netem/tbf. Installed before the nodes start (DNAT applies to new connections).
    const wholeRun = (o.link?.latencyMs ?? 0) > 0 || (o.link?.jitterMs ?? 0) > 0 || (o.link?.kbit ?? 0) > 0
    const relayFor = [
      ...(!lab.netem && o.kinds.includes('latency') ? ['latency faults (no tc netem)'] : []),
      ...(!lab.tbf && o.kinds.includes('bandwidth') ? ['bandwidth faults (no tc tbf)'] : []),
      ...(wholeRun
        ? [
            `every link ${o.link?.latencyMs ?? 0} ms ± ${o.link?.jitterMs ?? 0} ms one-way${o.link?.kbit ? `, ${o.link.kbit} kbit/s` : ''}`,
          ]
        : []),
      ...(o.slow
        ? [
            `${c.nodes[o.slow.node]?.name} ${o.slow.latencyMs} ms one-way each way on its links (RTT ${2 * o.slow.latencyMs} ms), ${o.slow.lossPct}% loss`,
          ]
        : []),
    ]
    if (relayFor.length > 0 || o.relays) {
      const jitter = new Prng(o.seed ^ 0x27d4eb2d)
      await lab.startRelays(P2P_PORT, () => jitter.next(), {
        latencyMs: o.link?.latencyMs ?? 0,
        jitterMs: o.link?.jitterMs ?? 0,
        kbit: o.link?.kbit ?? 0,
      })
      const slow = o.slow ? c.nodes[o.slow.node] : undefined
      if (o.slow && slow) {
        for (const other of c.nodes) {
          if (other === slow) continue
          lab.relay?.pin(slow.index, other.index, { latencyMs: o.slow.latencyMs })
          lab.relay?.pin(other.index, slow.index, { latencyMs: o.slow.latencyMs })
          if (o.slow.lossPct > 0) {
            lab.standingDrop(slow.host, other.host, o.slow.lossPct / 100)
            lab.standingDrop(other.host, slow.host, o.slow.lossPct / 100)
          }
        }
      }
      say(
        `link emulation: userspace TCP relays on every directed link (${relayFor.join('; ') || 'pass-through'}); they delay TCP payload, not packets`,
      )
    }
    say(
      `seed ${o.seed}: ${producerTopology ? `a dev producer (p) + ${o.followers} p2p followers` : `${o.validators} validators + ${o.followers} followers`} on 10.${lab.block}.100.0/24${lab.netem || lab.relay ? '' : ' (no tc netem here: latency faults skipped)'}${lab.tbf || lab.relay ? '' : ' (no tc tbf here: bandwidth faults skipped)'}` +
        `${byzNode ? `; ${byzNode.name} is byzantine (${byzNode.byzantine})` : ''}; ${plan.faults.length} faults; run dir ${dir}`,
    )
    await Promise.all(c.nodes.map((n) => c.start(n)))
    const until = Date.now() + 120_000
    while (!(await Promise.all(c.nodes.map((n) => heightOf(n.url).catch(() => 0)))).every((h) => h >= 2)) {
      if (Date.now() > until) throw new Error('the network did not reach height 2 within 120 s')
      await sleep(500)
    }
    say('every node at height 2: workload and nemesis start')
    const poller = new Poller(c)
    const heads = new HeadPoller(c)
    if (producerTopology) heads.start()
    else poller.start()
    const workload = new Workload({
      nodes: c.nodes.map((n) => ({ name: n.name, url: n.url })),
      prng: new Prng(o.seed ^ 0x5bd1e995),
      historyFile: join(dir, 'history.jsonl'),
      senders: o.senders,
      intervalMs: 600,
      ...(o.staking === false || producerTopology
        ? {}
        : { staking: { operators: c.nodes.flatMap((n) => (n.validator && n.address ? [n.address] : [])) } }),
    })
    workload.start()
    // producer topology: the figures at f1 (blocks and transactions as a follower's reader sees them)
    const clockNode = producerTopology ? c.nodes[1] : (c.nodes.find((n) => n.byzantine === 'none') ?? c.nodes[0])
    const clock = clockNode ? new HeadClock(clockNode.url) : undefined
    clock?.start()
    const nemesis = new Nemesis(c, plan, say)
    const started = Date.now()
    let perf: PerfFigures | undefined
    try {
      await nemesis.run(started)
      const rest = started + o.durationMs - Date.now()
      if (rest > 0) await sleep(rest)
    } finally {
      await clock?.stop()
      if (clock && clockNode) {
        perf = perfFigures(clock.seen, started, Date.now())
        if (producerTopology) perf.txsTo = `in a block at ${clockNode?.name}`
        say(`perf at ${clockNode.name} over the nemesis window: ${describePerf(perf)}`)
      }
      await nemesis.healAll()
    }
    if (producerTopology) await followerLiveness(c, o.livenessMs, say, violations)
    else {
      // Liveness: every node commits 3 heights past the highest one seen at the heal.
      const healedAt = Math.max(...(await Promise.all(c.nodes.map((n) => heightOf(n.url).catch(() => 0)))))
      const liveBy = Date.now() + o.livenessMs
      // every honest node (a byzantine one may be cut off by its peers' scoring: said, not a violation)
      const late = new Set(c.nodes.filter((n) => n.byzantine === 'none').map((n) => n.name))
      while (late.size > 0 && Date.now() < liveBy) {
        for (const n of c.nodes) {
          if (late.has(n.name) && (await heightOf(n.url).catch(() => 0)) >= healedAt + 3) late.delete(n.name)
        }
        if (late.size) await sleep(500)
      }
      if (late.size > 0) {
        violations.push(
          `liveness: ${[...late].join(', ')} did not reach height ${healedAt + 3} within ${o.livenessMs} ms of the heal`,
        )
      } else
        say(
          `liveness: every honest node past height ${healedAt + 3} ${((Date.now() - (liveBy - o.livenessMs)) / 1000).toFixed(1)} s after the heal`,
        )
      if (byzNode) {
        const h = await heightOf(byzNode.url).catch(() => -1)
        if (h < healedAt + 3)
          say(`the byzantine ${byzNode.name} is at height ${h} (the honest nodes past ${healedAt + 3})`)
      }
    }
    await workload.stop()
    // Acknowledged transactions: mined within 30 s, else sent again to every node (a wallet's
    // re-broadcast) and 30 s more; what is still missing is lost.
    const ref = c.nodes.find((n) => n.byzantine === 'none') ?? c.nodes[0]
    if (!ref) throw new Error('no nodes')
    const confirmed = new Set<string>()
    const blockOf = new Map<string, number>()
    const pending = async () => {
      const todo = workload.acknowledged.filter((t) => !confirmed.has(t.hash))
      for (let k = 0; k < todo.length; k += 100) {
        const part = todo.slice(k, k + 100)
        const got = await rpcBatch<{ blockNumber: string }>(
          ref.url,
          part.map((t) => ['eth_getTransactionReceipt', [t.hash]] as [string, unknown[]]),
        ).catch(() => part.map(() => null))
        for (const [i, r] of got.entries()) {
          if (!r) continue
          const hash = (part[i] as { hash: string }).hash
          confirmed.add(hash)
          blockOf.set(hash, Number(r.blockNumber))
        }
      }
      return todo.filter((t) => !confirmed.has(t.hash))
    }
    let missing = await pending()
    if (perf && clock) {
      perf.txs = txLatency(
        clock.seen,
        workload.acknowledged.flatMap((t) =>
          t.ackAt !== undefined && blockOf.has(t.hash)
            ? [{ ackAt: t.ackAt, block: blockOf.get(t.hash) as number }]
            : [],
        ),
      )
      say(`perf: ${describePerf(perf)}`)
    }
    const settleS = Math.round((o.settleMs ?? 30_000) / 1000)
    for (let k = 0; k < settleS && missing.length > 0; k++) {
      await sleep(1_000)
      missing = await pending()
    }
    let rebroadcast = 0
    let rebroadcastHonest = 0
    if (missing.length > 0) {
      const where = new Map<string, number>()
      for (const t of missing) where.set(t.ackNode ?? '?', (where.get(t.ackNode ?? '?') ?? 0) + 1)
      say(
        `${missing.length} acknowledged transactions not mined ${settleS} s after the heal (acknowledged by ${[...where].map(([n, k]) => `${n}: ${k}`).join(', ')}): sent again to every node`,
      )
      for (const line of await describeStranded(c.nodes, missing, started)) say(line)
      for (const t of missing) {
        t.rebroadcast = true
        rebroadcast++
        if (t.ackNode !== byzNode?.name) rebroadcastHonest++
        for (const n of c.nodes) await rpc(n.url, 'eth_sendRawTransaction', [t.raw]).catch(() => null)
      }
      for (let k = 0; k < settleS && missing.length > 0; k++) {
        await sleep(1_000)
        missing = await pending()
      }
    }
    // Let every node reach the same head before reading the chains.
    const target = Math.max(...(await Promise.all(c.nodes.map((n) => heightOf(n.url).catch(() => 0)))))
    const syncBy = Date.now() + 30_000
    while (Date.now() < syncBy) {
      const hs = await Promise.all(c.nodes.map((n) => heightOf(n.url).catch(() => 0)))
      if (hs.every((h) => h >= target)) break
      await sleep(500)
    }
    await poller.stop()
    await heads.stop()
    if (lab.relay) {
      const t = lab.relay.totals()
      say(
        `link relays: ${t.connections} connections, ${(t.bytes / 1e6).toFixed(1)} MB relayed on ${t.links} directed links`,
      )
    }
    say('transactions settled: checking the chains')
    if (producerTopology) {
      const fc = await checkFollowers({ cluster: c, txs: workload.txs, heads: heads.heads })
      say(`checked ${fc.headsChecked} heads served during the run against the producer's chain`)
      violations.push(...fc.violations)
      for (const e of c.unexpectedExits) violations.push(`crash: ${e.node} exited on its own (${e.how}); see its log`)
      result = {
        seed: o.seed,
        ok: violations.length === 0,
        violations,
        faults: Object.fromEntries(nemesis.applied),
        byzantine: 'none',
        acknowledged: fc.acknowledged,
        lost: fc.lost,
        unacknowledged: fc.unacknowledged,
        rebroadcast,
        rebroadcastHonest,
        evidenceOnChain: 0,
        setChanges: 0,
        heights: fc.heights,
        ...(perf ? { perf } : {}),
        wallMs: Date.now() - t0,
        dir,
        replay,
      }
    } else {
      const conflicts = byzNode
        ? (readFileSync(byzNode.log, 'utf8').match(/byzantine: sent a conflicting message/g) ?? []).length
        : 0
      const checked = await check({
        cluster: c,
        txs: workload.txs,
        poller,
        byzantine: byzNode?.address ? { address: byzNode.address, mode: byzNode.byzantine, conflicts } : null,
        ...(workload.staker !== undefined
          ? { staker: accounts[workload.staker]?.address.toLowerCase() as string }
          : {}),
      })
      say(`validator set: changed at ${checked.setChanges} heights (the staking workload)`)
      violations.push(...checked.violations)
      for (const e of c.unexpectedExits) violations.push(`crash: ${e.node} exited on its own (${e.how}); see its log`)
      result = {
        seed: o.seed,
        ok: violations.length === 0,
        violations,
        faults: Object.fromEntries(nemesis.applied),
        byzantine: byzNode ? `${byzNode.name}:${byzNode.byzantine} (${conflicts} conflicting msgs)` : 'none',
        acknowledged: checked.acknowledged,
        lost: checked.lost,
        unacknowledged: checked.unacknowledged,
        rebroadcast,
        rebroadcastHonest,
        evidenceOnChain: checked.evidenceOnChain,
        setChanges: checked.setChanges,
        heights: checked.heights,
        ...(perf ? { perf } : {}),
        wallMs: Date.now() - t0,
        dir,
        replay,
      }
    }
  } catch (err) {
    violations.push(`harness: ${(err as Error).message.split('\n')[0]}`)
    say(`run failed: ${(err as Error).stack ?? err}`)
  } finally {
    await cleanup()
    active.delete(cleanup)
  }
  const final: RunResult = result ?? {
    seed: o.seed,
    ok: false,
    violations,
    faults: {},
    byzantine: plan.byzantine ? `${plan.byzantine.mode}` : 'none',
    acknowledged: 0,
    lost: 0,
    unacknowledged: 0,
    rebroadcast: 0,
    rebroadcastHonest: 0,
    evidenceOnChain: 0,
    setChanges: 0,
    heights: {},
    wallMs: Date.now() - t0,
    dir,
    replay,
  }
  writeFileSync(join(dir, 'result.json'), `${JSON.stringify(final, null, 2)}\n`)
  writeFileSync(join(dir, 'nemesis.log'), `${logLines.join('\n')}\n`)
  if (final.ok && !o.keep) rmSync(dir, { recursive: true, force: true })
  else if (!final.ok) say(`FAILED seed ${o.seed}: ${violations.length} violations; kept ${dir}\nreplay: ${replay}`)
  return final
}

/** The nodes' p2p port (cluster.ts writes it in every config). */
const P2P_PORT = 30303
const BYZ_ALL = ['double-propose', 'double-vote', 'ignore-lock', 'silent'] as const

/**
 * The `producer` topology's liveness: the producer's head at the heal (the cut) is held, with the
 * producer's hash, by every follower within `livenessMs`; and the producer seals 3 more blocks.
 */
async function followerLiveness(
  c: Cluster,
  livenessMs: number,
  say: (line: string) => void,
  violations: string[],
): Promise<void> {
  const producer = c.nodes.find((n) => n.producer)
  if (!producer) throw new Error('no producer')
  const t0 = Date.now()
  const until = t0 + livenessMs
  const blockAt = (url: string, h: number) =>
    rpc<{ hash: string } | null>(url, 'eth_getBlockByNumber', [`0x${h.toString(16)}`, false], 3_000).catch(() => null)
  let cut = -1
  while (cut < 0 && Date.now() < until) {
    cut = await heightOf(producer.url).catch(() => -1)
    if (cut < 0) await sleep(500)
  }
  const want = cut >= 0 ? (await blockAt(producer.url, cut))?.hash : undefined
  const late = new Set(c.nodes.filter((n) => !n.producer).map((n) => n.name))
  let producerLive = false
  let followersAt = 0
  while ((late.size > 0 || !producerLive) && Date.now() < until) {
    for (const n of c.nodes) {
      if (n.producer) producerLive ||= (await heightOf(n.url).catch(() => 0)) >= cut + 3
      else if (late.has(n.name) && want !== undefined && (await blockAt(n.url, cut))?.hash === want) late.delete(n.name)
    }
    if (late.size === 0 && followersAt === 0) followersAt = Date.now()
    if (late.size > 0 || !producerLive) await sleep(250)
  }
  if (want === undefined) violations.push(`liveness: the producer did not answer within ${livenessMs} ms of the heal`)
  else if (late.size > 0)
    violations.push(
      `liveness: ${[...late].join(', ')} did not hold the producer's block ${cut} (${want}) within ${livenessMs} ms of the heal`,
    )
  if (!producerLive) violations.push(`liveness: the producer did not seal 3 blocks past ${cut} within ${livenessMs} ms`)
  if (want !== undefined && late.size === 0 && producerLive)
    say(
      `liveness: every follower holds the producer's block ${cut} (the head at the heal) ${((followersAt - t0) / 1000).toFixed(1)} s after the heal; the producer 3 blocks past it ${((Date.now() - t0) / 1000).toFixed(1)} s after`,
    )
}

/**
 * Where acknowledged transactions that were not mined are: each node's pool (pending or queued,
 * `txpool_content`), and each sender's first such nonce (who acknowledged it, when: +s after the
 * nemesis started). A queued transaction waits for a lower nonce its pool never received.
 */
async function describeStranded(nodes: NodeSpec[], missing: TxRecord[], startedAt: number): Promise<string[]> {
  const want = new Set<string>(missing.map((t) => t.hash))
  type Content = Record<'pending' | 'queued', Record<string, Record<string, { hash: string }>>>
  const pools = await Promise.all(
    nodes.map(async (n) => {
      const c = await rpc<Content>(n.url, 'txpool_content', [], 5_000).catch(() => null)
      if (!c) return `${n.name}: no answer`
      const count = (part: Content['pending'] | undefined) =>
        Object.values(part ?? {})
          .flatMap((byNonce) => Object.values(byNonce))
          .filter((t) => want.has(t.hash.toLowerCase())).length
      return `${n.name} ${count(c.pending)} pending, ${count(c.queued)} queued`
    }),
  )
  const first = new Map<string, TxRecord>()
  for (const t of missing)
    if ((first.get(t.sender)?.nonce ?? Number.POSITIVE_INFINITY) > t.nonce) first.set(t.sender, t)
  const firsts = [...first.values()]
    .sort((a, b) => (a.ackAt ?? 0) - (b.ackAt ?? 0))
    .map(
      (t) =>
        `${t.sender.slice(0, 8)} nonce ${t.nonce} by ${t.ackNode} at +${(((t.ackAt ?? 0) - startedAt) / 1000).toFixed(1)}s`,
    )
  return [`  in the pools: ${pools.join('; ')}`, `  each sender's first: ${firsts.join('; ')}`]
}
