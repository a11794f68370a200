// The nemesis: a schedule of faults drawn from the seed alone (planFaults), then applied one at a
// time and healed (Nemesis.run). Network faults act on the p2p segment inside the namespaces
// (netlab.ts); process faults on the node processes (cluster.ts); a byzantine validator, when the
// plan has one, misbehaves for the whole run (its `[testbed] byzantine` config).
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { ByzantineMode, Cluster, NodeSpec } from './cluster.ts'
import type { Prng } from './prng.ts'
import { sleep } from './workload.ts'

export const FAULT_KINDS = [
  'partition-halves',
  'partition-majority',
  'partition-bridge',
  'partition-ring',
  'one-way-loss',
  'random-loss',
  'bandwidth',
  'latency',
  'kill',
  'pause',
  'clock-skew',
  'disk-full',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]
export const BYZANTINE_MODES: Exclude<ByzantineMode, 'none'>[] = [
  'double-propose',
  'double-vote',
  'ignore-lock',
  'silent',
]

export interface Fault {
  kind: FaultKind
  /** Start, ms after the nemesis starts. */
  at: number
  durationMs: number
  /** The nodes it acts on (indices), or the groups of a partition. */
  targets: number[]
  groups?: number[][]
  /** Loss probability, kbit/s, delay ms or clock offset ms, by kind. */
  param?: number
}

export interface Plan {
  faults: Fault[]
  byzantine: { node: number; mode: Exclude<ByzantineMode, 'none'> } | null
  /** The node whose datadir is a small tmpfs (disk-full faults), or undefined. */
  diskNode: number | undefined
}

export interface PlanOptions {
  validators: number
  followers: number
  durationMs: number
  kinds: readonly FaultKind[]
  /** How long a fault lasts, and the healthy time between two (ms, [least, most]); default 5–15 s and 3–8 s. */
  faultMs?: [number, number]
  gapMs?: [number, number]
  /** A byzantine validator: one of these modes always; `random`: any mode in half the runs (from the seed); `never`. */
  byzantine: readonly Exclude<ByzantineMode, 'none'>[] | 'random' | 'never'
}

/** The schedule: faults one after another (5–15 s each, 3–8 s healthy between, by default), from the seed alone. */
export function planFaults(prng: Prng, o: PlanOptions): Plan {
  const n = o.validators + o.followers
  const all = [...Array(n).keys()]
  const validators = [...Array(o.validators).keys()]
  const modes = Array.isArray(o.byzantine) ? o.byzantine : BYZANTINE_MODES
  const wantByz = Array.isArray(o.byzantine) || (o.byzantine === 'random' && prng.next() < 0.5)
  const byzantine = wantByz && modes.length > 0 ? { node: prng.pick(validators), mode: prng.pick(modes) } : null
  const diskNode = o.kinds.includes('disk-full') ? prng.pick(all) : undefined
  const faults: Fault[] = []
  let t = 8_000
  const [fLo, fHi] = o.faultMs ?? [5_000, 15_000]
  const [gLo, gHi] = o.gapMs ?? [3_000, 8_000]
  while (o.kinds.length > 0 && t + fLo <= o.durationMs - 5_000) {
    const kind = prng.pick(o.kinds)
    const durationMs = Math.min(prng.range(fLo, fHi), o.durationMs - 5_000 - t)
    const f: Fault = { kind, at: t, durationMs, targets: [] }
    const order = prng.shuffle(all)
    switch (kind) {
      case 'partition-halves': {
        const half = Math.floor(n / 2)
        f.groups = [order.slice(0, half), order.slice(half)]
        break
      }
      case 'partition-majority': {
        // a minority of at most f validators (plus some followers) cut off
        const maxF = Math.max(1, Math.floor((o.validators - 1) / 3))
        const vs = prng.shuffle(validators)
        const minority = vs.slice(0, prng.range(1, maxF))
        for (const x of all) if (x >= o.validators && prng.next() < 0.5) minority.push(x)
        f.groups = [minority, all.filter((x) => !minority.includes(x))]
        break
      }
      case 'partition-bridge': {
        // two sides that hear each other only through one node
        const [bridge, ...rest] = order
        const half = Math.floor(rest.length / 2)
        f.targets = [bridge as number]
        f.groups = [rest.slice(0, half), rest.slice(half)]
        break
      }
      case 'partition-ring':
        f.targets = order
        break
      case 'one-way-loss':
        f.targets = [order[0] as number]
        f.groups = [order.slice(1).filter(() => prng.next() < 0.6)]
        break
      case 'random-loss':
        f.param = prng.range(5, 25) / 100
        break
      case 'bandwidth':
        f.targets = [order[0] as number]
        f.param = prng.pick([64, 128, 256, 512])
        break
      case 'latency':
        f.targets = [order[0] as number]
        f.param = prng.range(50, 400)
        break
      case 'kill':
      case 'pause':
        f.targets = [order[0] as number]
        break
      case 'clock-skew':
        f.targets = [prng.pick(validators)]
        f.param = (prng.next() < 0.5 ? -1 : 1) * prng.range(2_000, 30_000)
        break
      case 'disk-full':
        f.targets = [diskNode as number]
        break
    }
    faults.push(f)
    t += durationMs + prng.range(gLo, gHi)
  }
  return { faults, byzantine, diskNode }
}

/**
 * The kinds that apply to the `producer` topology: all but `clock-skew` (the dev engine seals on
 * its own clock and a follower checks no timestamps against its clock: `testbed.clockOffsetMs`
 * moves only the BFT engine's), and there is no byzantine validator.
 */
export const FOLLOWER_FAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((k) => k !== 'clock-skew')

/**
 * The `producer` topology's schedule (node 0 the producer, 1..F the followers), from the seed
 * alone, as planFaults: `partition-halves` splits the followers from the producer (the producer
 * keeps 0..⌊F/2⌋ of them, the rest hear only each other); `partition-majority` cuts a minority of
 * followers off (1..⌊(F−1)/2⌋, at least 1) from the producer and the rest; `partition-bridge` and
 * `partition-ring` over every node; `kill` and `pause` any node, the producer included (it resumes
 * from its datadir); `disk-full` a follower.
 */
export function planFollowerFaults(prng: Prng, o: Omit<PlanOptions, 'validators' | 'byzantine'>): Plan {
  const n = o.followers + 1
  const all = [...Array(n).keys()]
  const followers = all.slice(1)
  const kinds = o.kinds.filter((k) => FOLLOWER_FAULT_KINDS.includes(k))
  const diskNode = kinds.includes('disk-full') ? prng.pick(followers) : undefined
  const faults: Fault[] = []
  let t = 8_000
  const [fLo, fHi] = o.faultMs ?? [5_000, 15_000]
  const [gLo, gHi] = o.gapMs ?? [3_000, 8_000]
  while (kinds.length > 0 && t + fLo <= o.durationMs - 5_000) {
    const kind = prng.pick(kinds)
    const durationMs = Math.min(prng.range(fLo, fHi), o.durationMs - 5_000 - t)
    const f: Fault = { kind, at: t, durationMs, targets: [] }
    const order = prng.shuffle(all)
    const fs = prng.shuffle(followers)
    switch (kind) {
      case 'partition-halves': {
        const withProducer = fs.slice(0, prng.range(0, Math.floor(o.followers / 2)))
        f.groups = [[0, ...withProducer], fs.filter((x) => !withProducer.includes(x))]
        break
      }
      case 'partition-majority': {
        const cut = fs.slice(0, prng.range(1, Math.max(1, Math.floor((o.followers - 1) / 2))))
        f.groups = [cut, all.filter((x) => !cut.includes(x))]
        break
      }
      case 'partition-bridge': {
        const [bridge, ...rest] = order
        const half = Math.floor(rest.length / 2)
        f.targets = [bridge as number]
        f.groups = [rest.slice(0, half), rest.slice(half)]
        break
      }
      case 'partition-ring':
        f.targets = order
        break
      case 'one-way-loss':
        f.targets = [order[0] as number]
        f.groups = [order.slice(1).filter(() => prng.next() < 0.6)]
        break
      case 'random-loss':
        f.param = prng.range(5, 25) / 100
        break
      case 'bandwidth':
        f.targets = [order[0] as number]
        f.param = prng.pick([64, 128, 256, 512])
        break
      case 'latency':
        f.targets = [order[0] as number]
        f.param = prng.range(50, 400)
        break
      case 'kill':
      case 'pause':
        f.targets = [order[0] as number]
        break
      case 'disk-full':
        f.targets = [diskNode as number]
        break
      case 'clock-skew':
        break
    }
    faults.push(f)
    t += durationMs + prng.range(gLo, gHi)
  }
  return { faults, byzantine: null, diskNode }
}

export function describeFault(f: Fault, names: string[]): string {
  const nm = (xs: number[]) => xs.map((x) => names[x]).join(',')
  const groups = f.groups ? ` ${f.groups.map((g) => `[${nm(g)}]`).join(' | ')}` : ''
  return `${f.kind}${f.targets.length ? ` ${nm(f.targets)}` : ''}${groups}${f.param !== undefined ? ` (${f.param})` : ''} for ${f.durationMs} ms`
}

/** Applies a plan's faults on a cluster at their times, healing each before the next. */
export class Nemesis {
  /** What was applied (kind → count), for the summary. */
  readonly applied = new Map<FaultKind, number>()
  readonly log: string[] = []

  constructor(
    private readonly cluster: Cluster,
    private readonly plan: Plan,
    private readonly say: (line: string) => void,
  ) {}

  async run(startedAt: number): Promise<void> {
    const names = this.cluster.nodes.map((n) => n.name)
    for (const f of this.plan.faults) {
      const wait = startedAt + f.at - Date.now()
      if (wait > 0) await sleep(wait)
      const line = `+${((Date.now() - startedAt) / 1000).toFixed(1)}s ${describeFault(f, names)}`
      this.log.push(line)
      this.say(`nemesis ${line}`)
      const healed = await this.#apply(f)
      if (healed === false) continue
      this.applied.set(f.kind, (this.applied.get(f.kind) ?? 0) + 1)
      await sleep(f.durationMs)
      await this.#heal(f)
    }
  }

  #node(i: number | undefined): NodeSpec {
    const n = this.cluster.nodes[i ?? -1]
    if (!n) throw new Error(`no node ${i}`)
    return n
  }

  /** Applies a fault; false when it cannot be here (latency without netem or relays, bandwidth without tbf or relays). */
  async #apply(f: Fault): Promise<boolean> {
    const lab = this.cluster.lab
    const host = (i: number) => this.#node(i).host
    switch (f.kind) {
      case 'partition-halves':
      case 'partition-majority':
      case 'partition-bridge':
        lab.partition((f.groups ?? []).map((g) => g.map(host)))
        return true
      case 'partition-ring': {
        const ring = f.targets
        for (const [k, x] of ring.entries()) {
          const near = new Set([ring[(k + 1) % ring.length], ring[(k - 1 + ring.length) % ring.length], x])
          for (const y of ring) if (!near.has(y)) lab.drop(host(x), host(y))
        }
        return true
      }
      case 'one-way-loss':
        for (const y of f.groups?.[0] ?? []) lab.drop(host(f.targets[0] as number), host(y))
        return true
      case 'random-loss':
        for (const x of this.cluster.nodes)
          for (const y of this.cluster.nodes) if (x !== y) lab.drop(x.host, y.host, f.param ?? 0.1)
        return true
      case 'bandwidth':
        if (lab.tbf) lab.cap(host(f.targets[0] as number), f.param ?? 256)
        else if (lab.relay) lab.relayCap(host(f.targets[0] as number), f.param ?? 256)
        else {
          this.say('nemesis: bandwidth cap skipped (this kernel has no tc tbf, and no relays)')
          return false
        }
        return true
      case 'latency': {
        const h = host(f.targets[0] as number)
        const ms = f.param ?? 200
        if (lab.netem) lab.delay(h, ms, Math.round(ms / 4), 1, 10)
        else if (lab.relay) {
          // the relays delay the payload; the 1% loss is iptables' (TCP retransmits it); no reordering
          lab.relayDelay(h, ms, Math.round(ms / 4))
          for (const y of this.cluster.nodes) if (y.host !== h) lab.drop(h, y.host, 0.01)
        } else {
          this.say('nemesis: latency skipped (this kernel has no tc netem, and no relays)')
          return false
        }
        return true
      }
      case 'kill':
        await this.cluster.kill9(this.#node(f.targets[0]))
        return true
      case 'pause':
        this.cluster.pause(this.#node(f.targets[0]))
        return true
      case 'clock-skew': {
        const n = this.#node(f.targets[0])
        await this.cluster.stop(n)
        n.clockOffsetMs = f.param ?? 10_000
        await this.cluster.start(n)
        return true
      }
      case 'disk-full': {
        const n = this.#node(f.targets[0])
        this.cluster.expectExit(n)
        try {
          execFileSync('dd', ['if=/dev/zero', `of=${join(n.datadir, 'chaos-fill')}`, 'bs=1M'], { stdio: 'ignore' })
        } catch {
          // dd stops with ENOSPC: the disk is full, which is the point
        }
        return true
      }
    }
  }

  async #heal(f: Fault): Promise<void> {
    this.cluster.lab.heal()
    const n = f.targets[0] !== undefined ? this.#node(f.targets[0]) : undefined
    switch (f.kind) {
      case 'kill':
        if (n) await this.cluster.start(n)
        break
      case 'pause':
        if (n) this.cluster.resume(n)
        break
      case 'clock-skew':
        if (n) {
          await this.cluster.stop(n)
          n.clockOffsetMs = 0
          await this.cluster.start(n)
        }
        break
      case 'disk-full':
        if (n) {
          rmSync(join(n.datadir, 'chaos-fill'), { force: true })
          if (!this.cluster.running(n)) await this.cluster.start(n)
        }
        break
      default:
        break
    }
  }

  /** Every fault off, every node running (the end of the nemesis, or a failure). */
  async healAll(): Promise<void> {
    this.cluster.lab.heal()
    for (const n of this.cluster.nodes) {
      this.cluster.resume(n)
      rmSync(join(n.datadir, 'chaos-fill'), { force: true })
      if (n.clockOffsetMs !== 0) {
        await this.cluster.stop(n)
        n.clockOffsetMs = 0
      }
      if (!this.cluster.running(n)) await this.cluster.start(n)
    }
  }
}
