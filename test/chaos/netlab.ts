// The testbed's network: one Linux network namespace per node, each with `p2p0` on one bridge (its
// address in 10.<block>.100.0/24, the peer-to-peer segment) and `rpc0`, a point-to-point link to
// the root namespace through which the harness reaches its JSON-RPC (faults never touch it), as
// test/p2p/netns.ts. Faults act inside the namespaces on `p2p0` only: iptables rules in OUTPUT
// (partitions and one-way or random loss, per destination), `tc tbf` (bandwidth caps) and
// `tc netem` (latency, jitter, reordering) where the kernel has it. Every name carries the owning
// process's pid (`cx<pid>…`); `reapLeftovers()` removes those of dead pids (a killed run).
// Where the kernel has no netem/tbf, `startRelays()` puts a userspace TCP relay on every directed
// link (link-relay.ts): the bridge gets an address (the relays listen there, `.254`) and one source
// address per node (`.129`…), and each namespace DNATs its p2p traffic to the relay of the link.
import { execFileSync } from 'node:child_process'
import { LinkRelay, type LinkSettings } from './link-relay.ts'

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}
function ip(...args: string[]): string {
  return run('ip', args)
}
function quiet(fn: () => unknown): void {
  try {
    fn()
  } catch {}
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Why the testbed cannot run here (not Linux, not root, no `ip netns`, no iptables), or null. */
export function netlabUnavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)'
  const probe = `cxprobe${process.pid}`
  try {
    ip('netns', 'add', probe)
    try {
      run('ip', ['netns', 'exec', probe, 'iptables', '-S'])
    } finally {
      quiet(() => ip('netns', 'del', probe))
    }
    return null
  } catch (err) {
    return `ip netns / iptables failed: ${String((err as { stderr?: string }).stderr ?? err).trim()}`
  }
}

/**
 * Whether the kernel has the queueing discipline `kind` (`netem`: latency, jitter, reordering;
 * `tbf`: bandwidth caps). Some kernels are built without them (this project's CI machines: neither):
 * the faults that need one are then not scheduled, and the run says so.
 */
export function qdiscAvailable(kind: 'netem' | 'tbf'): boolean {
  const ns = `cx${kind}${process.pid}`
  const args =
    kind === 'netem' ? ['netem', 'delay', '1ms'] : ['tbf', 'rate', '1mbit', 'burst', '32kbit', 'latency', '400ms']
  try {
    ip('netns', 'add', ns)
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    run('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', ...args])
    return true
  } catch {
    return false
  } finally {
    quiet(() => ip('netns', 'del', ns))
  }
}

/** Removes namespaces, links and mounts of testbed runs whose process is gone; kills what runs in them. */
export function reapLeftovers(): string[] {
  const removed: string[] = []
  const dead = (name: string) => {
    const m = /^cx(\d+)[a-z]/.exec(name)
    return m !== null && !alive(Number(m[1]))
  }
  for (const line of ip('netns', 'list').split('\n')) {
    const ns = line.split(' ')[0] ?? ''
    if (!dead(ns)) continue
    quiet(() => {
      for (const pid of ip('netns', 'pids', ns).split('\n').filter(Boolean))
        quiet(() => process.kill(Number(pid), 'SIGKILL'))
    })
    quiet(() => ip('netns', 'del', ns))
    removed.push(ns)
  }
  for (const line of ip('-o', 'link', 'show').split('\n')) {
    const name = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? ''
    if (!dead(name)) continue
    quiet(() => ip('link', 'del', name))
    removed.push(name)
  }
  for (const line of run('cat', ['/proc/mounts']).split('\n')) {
    const [src, target] = line.split(' ')
    if (src === 'cxtmpfs' && target !== undefined) {
      const pid = /\/cx(\d+)-/.exec(target)?.[1]
      if (pid !== undefined && !alive(Number(pid))) {
        quiet(() => run('umount', ['-l', target]))
        removed.push(target)
      }
    }
  }
  return removed
}

export interface Host {
  index: number
  ns: string
  p2pIp: string
  rpcIp: string
  /** The bridge-side end of its p2p link. */
  port: string
}

export class NetLab {
  readonly tag = `cx${process.pid}`
  readonly bridge: string
  readonly hosts: Host[] = []
  readonly block: number
  readonly netem: boolean
  /** Whether `tc tbf` works (bandwidth faults are applied only then). */
  readonly tbf: boolean
  /** The userspace link emulator, once {@link startRelays} has run. */
  relay: LinkRelay | null = null
  /** Random drops for the whole run (put back after every heal). */
  #standing: [Host, Host, number][] = []
  #mounts: string[] = []

  constructor() {
    this.bridge = `${this.tag}b`
    const used = ip('-o', '-4', 'addr', 'show')
    const free = [77, ...Array.from({ length: 100 }, (_, i) => 100 + i)].find((b) => !used.includes(` 10.${b}.`))
    if (free === undefined) throw new Error('no free 10.x.0.0/16 block in the root namespace')
    this.block = free
    this.netem = qdiscAvailable('netem')
    this.tbf = qdiscAvailable('tbf')
    ip('link', 'add', this.bridge, 'type', 'bridge')
    ip('link', 'set', this.bridge, 'up')
  }

  addHost(): Host {
    const i = this.hosts.length + 1
    const host: Host = {
      index: i - 1,
      ns: `${this.tag}n${i}`,
      p2pIp: `10.${this.block}.100.${i}`,
      rpcIp: `10.${this.block}.${i}.2`,
      port: `${this.tag}p${i}`,
    }
    const rpcRoot = `${this.tag}r${i}`
    ip('netns', 'add', host.ns)
    this.hosts.push(host)
    ip('link', 'add', host.port, 'type', 'veth', 'peer', 'name', 'p2p0', 'netns', host.ns)
    ip('link', 'set', host.port, 'master', this.bridge, 'up')
    ip('link', 'add', rpcRoot, 'type', 'veth', 'peer', 'name', 'rpc0', 'netns', host.ns)
    ip('addr', 'add', `10.${this.block}.${i}.1/30`, 'dev', rpcRoot)
    ip('link', 'set', rpcRoot, 'up')
    ip('-n', host.ns, 'addr', 'add', `${host.p2pIp}/24`, 'dev', 'p2p0')
    ip('-n', host.ns, 'addr', 'add', `${host.rpcIp}/30`, 'dev', 'rpc0')
    for (const dev of ['lo', 'p2p0', 'rpc0']) ip('-n', host.ns, 'link', 'set', dev, 'up')
    return host
  }

  #nsRun(host: Host, cmd: string, args: string[]): void {
    run('ip', ['netns', 'exec', host.ns, cmd, ...args])
  }

  /** The bridge's address the relays listen on. */
  get relayIp(): string {
    return `10.${this.block}.100.254`
  }

  /** The address the relays connect from on behalf of `host` (what its peers see as its address). */
  relaySource(host: Host): string {
    return `10.${this.block}.100.${129 + host.index}`
  }

  /**
   * A relay on every directed link between the hosts (call after the last {@link addHost}, before
   * the nodes start: connections made before the DNAT rules bypass the relays). `base`: every link's
   * settings for the whole run (and after each heal). Relay of link i → j: `relayIp`, port
   * `basePort + 32·i + j`; it connects to j's `p2pPort` from `relaySource(i)`.
   */
  async startRelays(
    p2pPort: number,
    random: () => number,
    base: Partial<LinkSettings> = {},
    basePort = 41_000,
  ): Promise<void> {
    if (this.relay) return
    const relay = new LinkRelay({ random })
    relay.reset({ latencyMs: 0, jitterMs: 0, kbit: 0, ...base })
    this.relay = relay
    ip('addr', 'add', `${this.relayIp}/24`, 'dev', this.bridge)
    for (const h of this.hosts) ip('addr', 'add', `${this.relaySource(h)}/32`, 'dev', this.bridge)
    for (const from of this.hosts) {
      for (const to of this.hosts) {
        if (from === to) continue
        const port = await relay.listen(from.index, to.index, {
          listenHost: this.relayIp,
          listenPort: basePort + 32 * from.index + to.index,
          host: to.p2pIp,
          port: p2pPort,
          localAddress: this.relaySource(from),
        })
        this.#nsRun(from, 'iptables', [
          '-t',
          'nat',
          '-A',
          'OUTPUT',
          '-p',
          'tcp',
          '-d',
          to.p2pIp,
          '--dport',
          String(p2pPort),
          '-j',
          'DNAT',
          '--to-destination',
          `${this.relayIp}:${port}`,
        ])
      }
    }
  }

  /** Latency ± jitter (ms) on every link `host` sends on, through the relays. */
  relayDelay(host: Host, ms: number, jitterMs: number): void {
    for (const to of this.hosts) if (to !== host) this.relay?.set(host.index, to.index, { latencyMs: ms, jitterMs })
  }

  /** A bandwidth cap (kbit/s) on each link `host` sends on (per link, not shared), through the relays. */
  relayCap(host: Host, kbit: number): void {
    for (const to of this.hosts) if (to !== host) this.relay?.set(host.index, to.index, { kbit })
  }

  /** Drops what `from` sends to `to` on the p2p segment (with `probability`: random loss). */
  drop(from: Host, to: Host, probability = 1): void {
    const stat = probability < 1 ? ['-m', 'statistic', '--mode', 'random', '--probability', String(probability)] : []
    if (!this.relay) {
      this.#nsRun(from, 'iptables', ['-A', 'OUTPUT', '-o', 'p2p0', '-d', to.p2pIp, ...stat, '-j', 'DROP'])
      return
    }
    // Through the relays the packets' destination is the relay (connections `from` opened: their
    // original destination is `to`) or the relay's source address for `to` (connections `to` opened).
    this.#nsRun(from, 'iptables', [
      '-A',
      'OUTPUT',
      '-o',
      'p2p0',
      '-m',
      'conntrack',
      '--ctorigdst',
      to.p2pIp,
      ...stat,
      '-j',
      'DROP',
    ])
    this.#nsRun(from, 'iptables', ['-A', 'OUTPUT', '-o', 'p2p0', '-d', this.relaySource(to), ...stat, '-j', 'DROP'])
  }

  /** A random drop of what `from` sends to `to` for the whole run: {@link heal} puts it back. */
  standingDrop(from: Host, to: Host, probability: number): void {
    this.#standing.push([from, to, probability])
    this.drop(from, to, probability)
  }

  /** Cuts every link between the groups (both ways); hosts in no group keep every link. */
  partition(groups: Host[][]): void {
    for (const [a, ga] of groups.entries()) {
      for (const [b, gb] of groups.entries()) {
        if (a === b) continue
        for (const x of ga) for (const y of gb) this.drop(x, y)
      }
    }
  }

  /** A bandwidth cap on what `host` sends on the segment. */
  cap(host: Host, kbit: number): void {
    this.#nsRun(host, 'tc', [
      'qdisc',
      'replace',
      'dev',
      'p2p0',
      'root',
      'tbf',
      'rate',
      `${kbit}kbit`,
      'burst',
      '32kbit',
      'latency',
      '400ms',
    ])
  }

  /** Latency (and jitter, loss, reordering) on what `host` sends, with `tc netem` (only when {@link netem}). */
  delay(host: Host, ms: number, jitterMs: number, lossPct: number, reorderPct: number): void {
    const args = ['qdisc', 'replace', 'dev', 'p2p0', 'root', 'netem', 'delay', `${ms}ms`, `${jitterMs}ms`]
    if (lossPct > 0) args.push('loss', `${lossPct}%`)
    if (reorderPct > 0) args.push('reorder', `${reorderPct}%`)
    this.#nsRun(host, 'tc', args)
  }

  /** Every network fault off: iptables flushed (the relays' DNAT rules stay), root qdiscs removed, relays at their base. */
  heal(): void {
    this.relay?.reset()
    for (const h of this.hosts) {
      quiet(() => this.#nsRun(h, 'iptables', ['-F', 'OUTPUT']))
      quiet(() => this.#nsRun(h, 'tc', ['qdisc', 'del', 'dev', 'p2p0', 'root']))
    }
    for (const [from, to, p] of this.#standing) quiet(() => this.drop(from, to, p))
  }

  /** A tmpfs of `mb` MB mounted at `dir` (a datadir that can be filled), removed by {@link destroy}. */
  mountTmpfs(dir: string, mb: number): void {
    run('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'cxtmpfs', dir])
    this.#mounts.push(dir)
  }

  /** Removes the namespaces (and so their veth pairs), the bridge and the mounts. Processes are the caller's. */
  destroy(): void {
    this.relay?.close()
    for (const h of this.hosts) {
      quiet(() => {
        for (const pid of ip('netns', 'pids', h.ns).split('\n').filter(Boolean))
          quiet(() => process.kill(Number(pid), 'SIGKILL'))
      })
      quiet(() => ip('netns', 'del', h.ns))
    }
    for (let i = 1; i <= this.hosts.length; i++) quiet(() => ip('link', 'del', `${this.tag}r${i}`))
    quiet(() => ip('link', 'del', this.bridge))
    for (const m of this.#mounts) quiet(() => run('umount', ['-l', m]))
    this.#mounts = []
  }
}
