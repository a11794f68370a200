// `npm run chaos -- [--topology bft|producer] [--runs N] [--seed S] [--nodes V] [--followers F] [--duration SECONDS]
//   [--faults kind,kind…|none] [--byzantine random|always|never|mode,mode…] [--liveness SECONDS] [--dir D] [--keep]
//   [--link-latency MS] [--link-jitter MS] [--link-kbit KBIT] [--slow-node K --slow-latency MS --slow-loss PCT] [--relays]`
//
// The network testbed (docs/consensus/testing.md): N runs of V validators (+ F followers) as real
// `cairn start` processes in network namespaces under a seeded nemesis, each checked afterwards
// (`--topology producer`: one dev producer and F p2p followers, default 3, instead);
// then a summary table. Root only (network namespaces); exits 2 with the reason elsewhere, 1 when a
// run found a violation (its seed, replay command and kept directory are printed).
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FAULT_KINDS, type FaultKind } from './nemesis.ts'
import { netlabUnavailable } from './netlab.ts'
import { describePerf } from './perf.ts'
import { abortRuns, type RunOptions, type RunResult, runOnce } from './run.ts'

const USAGE =
  'usage: npm run chaos -- [--topology bft|producer] [--runs N] [--seed S] [--nodes 4..10] [--followers F] [--duration SECONDS] ' +
  '[--faults kind,…|none] [--byzantine random|always|never|mode,…] [--liveness SECONDS] [--dir D] [--bin CAIRN] [--keep]\n' +
  '  [--link-latency MS] [--link-jitter MS] [--link-kbit KBIT]  every link, the whole run (one-way, each direction; userspace relays)\n' +
  '  [--slow-node K --slow-latency MS --slow-loss PCT]  validator K (1-based) MS one-way each way from every peer, PCT % loss, the whole run\n' +
  '  [--relays]  the userspace relays on every link even where tc netem/tbf exist\n' +
  '  --topology producer: one dev producer (p) and --followers F (default 3) p2p followers (f1…); --nodes and --byzantine do not apply'

function fail(msg: string): never {
  process.stderr.write(`chaos: ${msg}\n${USAGE}\nfault kinds: ${FAULT_KINDS.join(', ')}\n`)
  process.exit(2)
}

function parse(argv: string[]) {
  const o = {
    runs: 1,
    seed: Math.floor(Math.random() * 2 ** 31),
    topology: 'bft' as 'bft' | 'producer',
    nodes: 4,
    followers: undefined as number | undefined,
    duration: 120,
    faults: [...FAULT_KINDS] as FaultKind[],
    byzantine: 'random' as RunOptions['byzantine'],
    liveness: 90,
    dir: join(tmpdir(), 'cairn-chaos'),
    keep: false,
    bin: undefined as string | undefined,
    link: { latencyMs: 0, jitterMs: 0, kbit: 0 },
    slow: undefined as { node: number; latencyMs: number; lossPct: number } | undefined,
    relays: false,
  }
  const int = (v: string | undefined, name: string, lo: number, hi: number) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi)
      fail(`--${name} expects an integer ${lo}..${hi}, got ${v}`)
    return Number(v)
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const v = argv[i + 1]
    switch (a) {
      case '--topology':
        if (v !== 'bft' && v !== 'producer') fail(`--topology expects bft or producer, got ${v}`)
        o.topology = v
        i++
        break
      case '--runs':
        o.runs = int(v, 'runs', 1, 100_000)
        i++
        break
      case '--seed':
        o.seed = int(v, 'seed', 0, 2 ** 31)
        i++
        break
      case '--nodes':
        o.nodes = int(v, 'nodes', 4, 10)
        i++
        break
      case '--followers':
        o.followers = int(v, 'followers', 0, 6)
        i++
        break
      case '--duration':
        o.duration = int(v, 'duration', 20, 3600)
        i++
        break
      case '--liveness':
        o.liveness = int(v, 'liveness', 10, 3600)
        i++
        break
      case '--faults': {
        if (v === 'none') {
          o.faults = []
          i++
          break
        }
        const kinds = (v ?? '').split(',').filter(Boolean)
        const bad = kinds.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k))
        if (kinds.length === 0 || bad.length) fail(`--faults: unknown kind(s) ${bad.join(', ') || '(none given)'}`)
        o.faults = kinds as FaultKind[]
        i++
        break
      }
      case '--byzantine': {
        const modes = ['double-propose', 'double-vote', 'ignore-lock', 'silent']
        if (v === 'random' || v === 'always' || v === 'never') o.byzantine = v
        else {
          const list = (v ?? '').split(',').filter(Boolean)
          if (list.length === 0 || list.some((m) => !modes.includes(m)))
            fail(`--byzantine: expected random, always, never or ${modes.join(',')}`)
          o.byzantine = list as Exclude<RunOptions['byzantine'], string>
        }
        i++
        break
      }
      case '--dir':
        if (!v) fail('--dir expects a directory')
        o.dir = v
        i++
        break
      case '--bin':
        if (!v) fail('--bin expects the path of a cairn executable')
        o.bin = v
        i++
        break
      case '--link-latency':
        o.link.latencyMs = int(v, 'link-latency', 0, 10_000)
        i++
        break
      case '--link-jitter':
        o.link.jitterMs = int(v, 'link-jitter', 0, 10_000)
        i++
        break
      case '--link-kbit':
        o.link.kbit = int(v, 'link-kbit', 0, 10_000_000)
        i++
        break
      case '--slow-node':
        o.slow = { latencyMs: 100, lossPct: 0, ...o.slow, node: int(v, 'slow-node', 1, 16) - 1 }
        i++
        break
      case '--slow-latency':
        o.slow = { node: 0, lossPct: 0, ...o.slow, latencyMs: int(v, 'slow-latency', 0, 10_000) }
        i++
        break
      case '--slow-loss':
        o.slow = { node: 0, latencyMs: 100, ...o.slow, lossPct: int(v, 'slow-loss', 0, 100) }
        i++
        break
      case '--relays':
        o.relays = true
        break
      case '--keep':
        o.keep = true
        break
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\nfault kinds: ${FAULT_KINDS.join(', ')}\n`)
        process.exit(0)
        break
      default:
        fail(`unknown argument ${a}`)
    }
  }
  const followers = o.followers ?? (o.topology === 'producer' ? 3 : 0)
  if (o.topology === 'producer' && followers < 1) fail('--topology producer needs --followers 1 or more')
  const total = o.topology === 'producer' ? 1 + followers : o.nodes + followers
  if (o.slow && o.slow.node >= total) fail(`--slow-node ${o.slow.node + 1}: there are ${total} nodes`)
  return { ...o, followers }
}

/** The soak's summary: runs, faults injected by kind, transactions acknowledged / lost, violations. */
export function summaryTable(results: RunResult[]): string {
  const faults = new Map<string, number>()
  for (const r of results) for (const [k, v] of Object.entries(r.faults)) faults.set(k, (faults.get(k) ?? 0) + (v ?? 0))
  const byz = new Map<string, number>()
  for (const r of results) {
    const mode = r.byzantine === 'none' ? 'none' : (/:([a-z-]+)/.exec(r.byzantine)?.[1] ?? r.byzantine)
    byz.set(mode, (byz.get(mode) ?? 0) + 1)
  }
  const sum = (f: (r: RunResult) => number) => results.reduce((a, r) => a + f(r), 0)
  const rows: [string, string][] = [
    ['runs', `${results.length} (${results.filter((r) => r.ok).length} passed)`],
    ['faults injected', [...faults].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'],
    ['byzantine validator', [...byz].map(([k, v]) => `${k} ${v}`).join(', ')],
    ['transactions acknowledged', String(sum((r) => r.acknowledged))],
    ['acknowledged, lost', String(sum((r) => r.lost))],
    [
      'acknowledged, mined only after a client re-broadcast',
      `${sum((r) => r.rebroadcast)} (acknowledged by an honest node: ${sum((r) => r.rebroadcastHonest)})`,
    ],
    ['sent, never acknowledged (run ended)', String(sum((r) => r.unacknowledged))],
    ['evidence pieces on chain', String(sum((r) => r.evidenceOnChain))],
    ['validator set changes (staking workload)', String(sum((r) => r.setChanges))],
    [
      'violations (safety, liveness, crashes)',
      String(sum((r) => r.violations.filter((v) => !v.startsWith('harness:')).length)),
    ],
    [
      'runs the harness could not finish',
      String(results.filter((r) => r.violations.some((v) => v.startsWith('harness:'))).length),
    ],
    ['wall time', `${(sum((r) => r.wallMs) / 60_000).toFixed(1)} min`],
  ]
  const w = Math.max(...rows.map((r) => r[0].length))
  return [
    `| ${'what'.padEnd(w)} | result |`,
    `| ${'-'.repeat(w)} | ------ |`,
    ...rows.map(([k, v]) => `| ${k.padEnd(w)} | ${v} |`),
  ].join('\n')
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2))
  const why = netlabUnavailable()
  if (why) {
    process.stderr.write(`chaos: skipped: ${why}\n`)
    process.exit(2)
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`chaos: ${signal}: stopping the nodes and removing the network\n`)
      setTimeout(() => process.exit(130), 15_000).unref()
      void abortRuns().finally(() => process.exit(130))
    })
  }
  const results: RunResult[] = []
  for (let k = 0; k < o.runs; k++) {
    const r = await runOnce({
      seed: o.seed + k,
      topology: o.topology,
      validators: o.topology === 'producer' ? 0 : o.nodes,
      followers: o.followers,
      durationMs: o.duration * 1000,
      kinds: o.faults,
      byzantine: o.byzantine,
      livenessMs: o.liveness * 1000,
      baseDir: o.dir,
      keep: o.keep,
      senders: 9,
      ...(o.bin ? { bin: o.bin } : {}),
      link: o.link,
      relays: o.relays,
      ...(o.slow ? { slow: o.slow } : {}),
      say: (line) => process.stdout.write(`${line}\n`),
    })
    results.push(r)
    process.stdout.write(
      `run ${k + 1}/${o.runs} seed ${r.seed}: ${r.ok ? 'ok' : 'FAILED'} — ${r.acknowledged} acked, ${r.lost} lost, ` +
        `${r.violations.length} violations, byzantine ${r.byzantine}, ${(r.wallMs / 1000).toFixed(0)} s\n`,
    )
    if (r.perf) process.stdout.write(`  perf: ${describePerf(r.perf)}\n`)
    for (const v of r.violations) process.stdout.write(`  violation: ${v}\n`)
  }
  process.stdout.write(`\n${summaryTable(results)}\n`)
  const failed = results.filter((r) => !r.ok)
  for (const r of failed) process.stdout.write(`failed seed ${r.seed}: ${r.replay}  (kept ${r.dir})\n`)
  process.exit(failed.length ? 1 : 0)
}

await main()
