// Hosts for the p2p e2e tier made of Linux network namespaces (root only): each host a namespace
// with two links — `p2p0` on a bridge (its own IP on the peer-to-peer segment) and `rpc0`, a
// point-to-point link to the root namespace through which the test reaches its JSON-RPC. A
// partition moves some hosts' bridge ports to a second bridge: they still reach each other, not the
// rest, and the test still reaches every host's RPC; healing moves them back. Every name carries
// the test process's pid, and the address block is one the root namespace does not use yet, so two
// runs on one machine do not meet.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { type CairnProcess, superviseCairn } from '../../packages/node/test/cli/cluster.ts'
import { CAIRN_BIN, cleanEnv, REPO_ROOT } from '../../packages/node/test/cli/run-cli.ts'

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why namespaces cannot be made here (not root, no `ip`, no netns support), or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root (ip netns needs CAP_NET_ADMIN)'
  const probe = `cprobe${process.pid}`
  try {
    ip('netns', 'add', probe)
    ip('netns', 'del', probe)
    return null
  } catch (err) {
    return `ip netns failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`
  }
}

export interface Host {
  /** The namespace's name. */
  ns: string
  /** The host's address on the peer-to-peer segment. */
  p2pIp: string
  /** The host's address on its RPC link (reachable from the test). */
  rpcIp: string
  /** The bridge-side end of its p2p link (what a partition moves). */
  port: string
}

export class NetLab {
  private readonly tag = `c${process.pid % 100_000}`
  private readonly bridges: [string, string]
  private readonly hosts: Host[] = []
  private readonly procs = new Set<ChildProcess>()
  /** Second octet of this lab's 10.x.0.0/16 block. */
  private readonly block: number

  constructor() {
    this.bridges = [`${this.tag}br0`, `${this.tag}br1`]
    const used = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' })
    const free = [...Array(128).keys()]
      .map((i) => 64 + ((process.pid + i) % 128))
      .find((b) => !used.includes(` 10.${b}.`))
    if (free === undefined) throw new Error('no free 10.x.0.0/16 block in the root namespace')
    this.block = free
    for (const br of this.bridges) {
      ip('link', 'add', br, 'type', 'bridge')
      ip('link', 'set', br, 'up')
    }
  }

  /** A new host on the first bridge. */
  addHost(): Host {
    const i = this.hosts.length + 1
    const ns = `${this.tag}h${i}`
    const port = `${this.tag}p${i}`
    const rpcRoot = `${this.tag}r${i}`
    const host: Host = { ns, p2pIp: `10.${this.block}.100.${i}`, rpcIp: `10.${this.block}.${i}.2`, port }
    ip('netns', 'add', ns)
    this.hosts.push(host)
    ip('link', 'add', port, 'type', 'veth', 'peer', 'name', 'p2p0', 'netns', ns)
    ip('link', 'set', port, 'master', this.bridges[0], 'up')
    ip('link', 'add', rpcRoot, 'type', 'veth', 'peer', 'name', 'rpc0', 'netns', ns)
    ip('addr', 'add', `10.${this.block}.${i}.1/30`, 'dev', rpcRoot)
    ip('link', 'set', rpcRoot, 'up')
    ip('-n', ns, 'addr', 'add', `${host.p2pIp}/24`, 'dev', 'p2p0')
    ip('-n', ns, 'addr', 'add', `${host.rpcIp}/30`, 'dev', 'rpc0')
    for (const dev of ['lo', 'p2p0', 'rpc0']) ip('-n', ns, 'link', 'set', dev, 'up')
    return host
  }

  /** Cuts `hosts` off the others: their p2p links move to the second bridge (they keep each other). */
  partition(hosts: Host[]): void {
    for (const h of hosts) ip('link', 'set', h.port, 'master', this.bridges[1])
  }

  /** Puts every host back on the first bridge. */
  heal(): void {
    for (const h of this.hosts) ip('link', 'set', h.port, 'master', this.bridges[0])
  }

  /**
   * `cairn start <args>` inside the host's namespace: JSON-RPC on its RPC link, p2p on its
   * segment address (port 30303: every host has its own), once both listen.
   */
  start(host: Host, args: string[], timeoutMs = 60_000): Promise<CairnProcess> {
    const all = [
      'netns',
      'exec',
      host.ns,
      process.execPath,
      CAIRN_BIN,
      'start',
      ...args,
      '--http.addr',
      host.rpcIp,
      '--http.port',
      '8545',
      '--p2p.addr',
      host.p2pIp,
      '--p2p.port',
      '30303',
      '--log.format',
      'json',
    ]
    const child = spawn('ip', all, {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.procs.add(child)
    return superviseCairn(child, {
      what: `cairn in ${host.ns}`,
      listening: /"msg":"listening on (http:\/\/[^"\s]+)"/,
      addr: new RegExp(`"addrs":\\["(/ip4/${host.p2pIp.replaceAll('.', '\\.')}/tcp/\\d+/p2p/[A-Za-z0-9]+)"`),
      timeoutMs,
      onExit: () => this.procs.delete(child),
    })
  }

  /** Stops every node (SIGKILL: they are throw-away) and removes the namespaces, links and bridges. */
  async destroy(): Promise<void> {
    const waits: Promise<unknown>[] = []
    for (const child of this.procs) {
      waits.push(new Promise((r) => child.once('close', r)))
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }
    await Promise.all(waits)
    // deleting a namespace deletes its ends of the veth pairs, and so the pairs
    for (const h of this.hosts) {
      try {
        ip('netns', 'del', h.ns)
      } catch {}
    }
    for (const br of this.bridges) {
      try {
        ip('link', 'del', br)
      } catch {}
    }
  }
}
