// The testbed's nodes: `cairn devnet init` makes the validators' keys and the genesis; each node (a
// validator or a follower) then runs as `cairn start --config <its toml>` inside its own namespace
// (netlab.ts), JSON-RPC on its RPC link, p2p on the segment, its output appended to a log file in
// the run directory. The harness starts, kills (-9), pauses (SIGSTOP/SIGCONT) and restarts them;
// a restart may change its test-only settings (`[testbed]`: clock offset, byzantine mode), which the
// node honours because the harness sets CAIRN_TESTBED=1.
//
// The `producer` topology (issue 51): one dev-engine producer (`dev = true`, a block every second,
// its chain in its datadir) and F followers (`dev = true`, `follow = true`) that sync its chain over
// libp2p. No `devnet init`: each node's identity key (`keys/node.key`) is written here, so every
// peer id is known before anything starts; followers dial the producer and each other.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { peerIdOfSecp256k1 } from '@cairn/p2p'
import { privateKeyToAddress } from 'viem/accounts'
import { CAIRN_BIN, cleanEnv, REPO_ROOT } from '../../packages/node/test/cli/run-cli.ts'
import type { Host, NetLab } from './netlab.ts'

export type ByzantineMode = 'none' | 'double-propose' | 'double-vote' | 'ignore-lock' | 'silent'
/** `bft`: validators (+ followers of the commits); `producer`: one dev producer and its p2p followers. */
export type Topology = 'bft' | 'producer'

export interface NodeSpec {
  index: number
  name: string
  validator: boolean
  /** The dev producer of the `producer` topology. */
  producer?: boolean
  host: Host
  datadir: string
  config: string
  log: string
  url: string
  /** The validator address (validators only). */
  address?: string
  clockOffsetMs: number
  byzantine: ByzantineMode
}

/** One JSON-RPC call (throws on an error answer, a timeout or no connection). */
export async function rpc<T>(url: string, method: string, params: unknown[] = [], timeoutMs = 5_000): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw Object.assign(new Error(body.error.message), { rpcError: true })
  return body.result as T
}

/** Many JSON-RPC calls in one batch request; each answer, or null where the call failed. */
export async function rpcBatch<T>(
  url: string,
  calls: [string, unknown[]][],
  timeoutMs = 15_000,
): Promise<(T | null)[]> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }))),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const body = (await res.json()) as { id: number; result?: T }[]
  const out: (T | null)[] = calls.map(() => null)
  for (const r of body) if (r.result !== undefined) out[r.id] = r.result
  return out
}

const API = ['eth', 'net', 'web3', 'cairn', 'txpool', 'debug']

export class Cluster {
  readonly nodes: NodeSpec[] = []
  /** The genesis file (bft), or null: the dev genesis every dev node derives alike (producer). */
  readonly genesis: string | null
  readonly topology: Topology
  readonly #procs = new Map<number, ChildProcess>()
  /** Exits the harness did not cause, by node index (code or signal). */
  readonly unexpectedExits: { node: string; at: number; how: string }[] = []
  readonly #expected = new Set<number>()

  constructor(
    readonly lab: NetLab,
    readonly dir: string,
    opts: { validators: number; followers: number; tmpfsNode?: number; bin?: string; topology?: Topology },
  ) {
    this.bin = opts.bin ?? CAIRN_BIN
    this.topology = opts.topology ?? 'bft'
    if (this.topology === 'producer') {
      this.genesis = null
      this.bootnodes = this.#producerTopology(opts.followers, opts.tmpfsNode)
      return
    }
    const devnet = join(dir, 'devnet')
    execFileSync(
      process.execPath,
      // Epochs of 4 blocks: the staking workload's power changes reach the engine's set every few
      // seconds, so set changes happen under the nemesis's faults, not once a run.
      [
        this.bin,
        'devnet',
        'init',
        '--validators',
        String(opts.validators),
        '--dir',
        devnet,
        '--param',
        'staking.epochLength=4',
      ],
      {
        cwd: REPO_ROOT,
        env: cleanEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    this.genesis = join(devnet, 'genesis.json')
    // The peer ids: every node-i.toml lists the others as /ip4/127.0.0.1/tcp/<30303 + k>/p2p/<id>.
    const peerIds = new Map<number, string>()
    for (const f of readdirSync(devnet).filter((f) => /^node-\d+\.toml$/.test(f))) {
      for (const m of readFileSync(join(devnet, f), 'utf8').matchAll(/\/tcp\/(\d+)\/p2p\/([A-Za-z0-9]+)/g)) {
        peerIds.set(Number(m[1]) - 30303, m[2] as string)
      }
    }
    const total = opts.validators + opts.followers
    for (let k = 0; k < total; k++) {
      const host = lab.addHost()
      const validator = k < opts.validators
      const name = validator ? `v${k + 1}` : `f${k - opts.validators + 1}`
      const datadir = validator ? join(devnet, `node-${k + 1}`) : join(dir, `follower-${k + 1}`)
      if (k === opts.tmpfsNode) {
        // the disk-full node's datadir is a small tmpfs: its keys move onto it
        const keys = readdirSync(join(datadir, 'keys')).map((f) => [f, readFileSync(join(datadir, 'keys', f))] as const)
        const mnt = join(dir, `${lab.tag}-disk-${name}`)
        mkdirSync(mnt, { recursive: true })
        lab.mountTmpfs(mnt, 48)
        mkdirSync(join(mnt, 'keys'), { recursive: true, mode: 0o700 })
        for (const [f, b] of keys) writeFileSync(join(mnt, 'keys', f), b, { mode: 0o600 })
        this.nodes.push(this.#spec(k, name, validator, host, mnt, validatorAddress(mnt)))
      } else {
        mkdirSync(datadir, { recursive: true })
        this.nodes.push(
          this.#spec(k, name, validator, host, datadir, validator ? validatorAddress(datadir) : undefined),
        )
      }
    }
    this.bootnodes = [...peerIds].map(([k, id]) => `/ip4/${lab.hosts[k]?.p2pIp}/tcp/30303/p2p/${id}`)
  }

  readonly bootnodes: string[]
  /** The `cairn` executable run (default: this tree's). */
  readonly bin: string

  /** Node 0 the producer `p`, nodes 1..F the followers `f1`…; returns every node's multiaddr. */
  #producerTopology(followers: number, tmpfsNode: number | undefined): string[] {
    const addrs: string[] = []
    for (let k = 0; k <= followers; k++) {
      const host = this.lab.addHost()
      const name = k === 0 ? 'p' : `f${k}`
      let datadir = join(this.dir, name)
      if (k === tmpfsNode) {
        datadir = join(this.dir, `${this.lab.tag}-disk-${name}`)
        mkdirSync(datadir, { recursive: true })
        this.lab.mountTmpfs(datadir, 48)
      }
      mkdirSync(join(datadir, 'keys'), { recursive: true, mode: 0o700 })
      const key = randomBytes(32) // below the curve order but with probability 1 − 2⁻¹²⁸
      writeFileSync(join(datadir, 'keys', 'node.key'), `${key.toString('hex')}\n`, { mode: 0o600 })
      addrs.push(`/ip4/${host.p2pIp}/tcp/30303/p2p/${peerIdOfSecp256k1(key)}`)
      this.nodes.push({ ...this.#spec(k, name, false, host, datadir), ...(k === 0 ? { producer: true } : {}) })
    }
    return addrs
  }

  #spec(k: number, name: string, validator: boolean, host: Host, datadir: string, address?: string): NodeSpec {
    return {
      index: k,
      name,
      validator,
      host,
      datadir,
      config: join(this.dir, `${name}.toml`),
      log: join(this.dir, `${name}.log`),
      url: `http://${host.rpcIp}:8545`,
      ...(address ? { address } : {}),
      clockOffsetMs: 0,
      byzantine: 'none',
    }
  }

  #writeConfig(n: NodeSpec): void {
    const boots = this.bootnodes.filter((b) => !b.includes(`/ip4/${n.host.p2pIp}/`))
    if (this.topology === 'producer') {
      // The producer seals a block a second and dials nobody (its followers dial it); a follower
      // dials the producer and the other followers, and syncs from whoever has the blocks.
      const lines = [
        'dev = true',
        ...(n.producer ? ['blockTime = 1'] : ['follow = true']),
        `datadir = ${JSON.stringify(n.datadir)}`,
        '[http]',
        `addr = "${n.host.rpcIp}"`,
        'port = 8545',
        '[rpc]',
        `api = [${API.map((a) => JSON.stringify(a)).join(', ')}]`,
        '[log]',
        'format = "json"',
        '[p2p]',
        'enabled = true',
        `addr = "${n.host.p2pIp}"`,
        'port = 30303',
        'dht = false',
        `bootnodes = [${(n.producer ? [] : boots).map((b) => JSON.stringify(b)).join(', ')}]`,
      ]
      writeFileSync(n.config, `${lines.join('\n')}\n`)
      return
    }
    const lines = [
      `engine = "bft"`,
      `profile = "test"`,
      `genesis = ${JSON.stringify(this.genesis ?? '')}`,
      `datadir = ${JSON.stringify(n.datadir)}`,
      '[http]',
      `addr = "${n.host.rpcIp}"`,
      'port = 8545',
      '[rpc]',
      `api = [${API.map((a) => JSON.stringify(a)).join(', ')}]`,
      '[log]',
      'format = "json"',
      '[keys]',
      `validator = ${n.validator}`,
      '[p2p]',
      'enabled = true',
      `addr = "${n.host.p2pIp}"`,
      'port = 30303',
      'dht = false',
      `bootnodes = [${boots.map((b) => JSON.stringify(b)).join(', ')}]`,
    ]
    if (n.clockOffsetMs !== 0 || n.byzantine !== 'none') {
      lines.push('[testbed]', `clockOffsetMs = ${n.clockOffsetMs}`, `byzantine = "${n.byzantine}"`)
    }
    writeFileSync(n.config, `${lines.join('\n')}\n`)
  }

  running(n: NodeSpec): boolean {
    const p = this.#procs.get(n.index)
    return p !== undefined && p.exitCode === null && p.signalCode === null
  }

  /** Starts the node in its namespace (the config rewritten from its spec); resolves once its RPC answers. */
  async start(n: NodeSpec, timeoutMs = 240_000): Promise<void> {
    this.#writeConfig(n)
    const fd = openSync(n.log, 'a')
    const child = spawn('ip', ['netns', 'exec', n.host.ns, process.execPath, this.bin, 'start', '--config', n.config], {
      cwd: REPO_ROOT,
      env: cleanEnv({ CAIRN_TESTBED: '1' }),
      detached: true,
      stdio: ['ignore', fd, fd],
    })
    closeSync(fd)
    this.#procs.set(n.index, child)
    this.#expected.delete(n.index)
    child.once('exit', (code, signal) => {
      if (this.#procs.get(n.index) === child) this.#procs.delete(n.index)
      if (!this.#expected.has(n.index)) {
        this.unexpectedExits.push({ node: n.name, at: Date.now(), how: signal ?? `code ${code}` })
      }
    })
    const until = Date.now() + timeoutMs
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${n.name} exited at start (see ${n.log}):\n${tail(n.log)}`)
      }
      try {
        await rpc(n.url, 'eth_blockNumber', [], 2_000)
        return
      } catch {}
      if (Date.now() > until) throw new Error(`${n.name} did not answer RPC within ${timeoutMs} ms:\n${tail(n.log)}`)
      await new Promise((r) => setTimeout(r, 250))
    }
  }

  #signal(n: NodeSpec, sig: NodeJS.Signals): void {
    const p = this.#procs.get(n.index)
    if (p?.pid === undefined) return
    try {
      process.kill(-p.pid, sig)
    } catch {}
  }

  /** kill -9; resolves once it is gone. */
  async kill9(n: NodeSpec): Promise<void> {
    const p = this.#procs.get(n.index)
    if (!p || !this.running(n)) return
    this.#expected.add(n.index)
    const gone = new Promise((r) => {
      p.once('exit', r)
      setTimeout(r, 10_000).unref()
    })
    this.#signal(n, 'SIGCONT')
    this.#signal(n, 'SIGKILL')
    await gone
  }

  /** SIGTERM (a clean stop), SIGKILL after 20 s. */
  async stop(n: NodeSpec): Promise<void> {
    const p = this.#procs.get(n.index)
    if (!p || !this.running(n)) return
    this.#expected.add(n.index)
    const gone = new Promise((r) => p.once('exit', r))
    this.#signal(n, 'SIGCONT')
    this.#signal(n, 'SIGTERM')
    const t = setTimeout(() => this.#signal(n, 'SIGKILL'), 20_000)
    await gone
    clearTimeout(t)
  }

  /** The node may exit on its own (a full disk): not counted as unexpected until its next start. */
  expectExit(n: NodeSpec): void {
    this.#expected.add(n.index)
  }

  pause(n: NodeSpec): void {
    this.#signal(n, 'SIGSTOP')
  }

  resume(n: NodeSpec): void {
    this.#signal(n, 'SIGCONT')
  }

  /** Kills every node (SIGKILL) and waits for the exits. */
  async killAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill9(n)))
  }
}

/** The address of the validator key `cairn devnet init` wrote into a datadir (hex, one line). */
function validatorAddress(datadir: string): string | undefined {
  try {
    const key = readFileSync(join(datadir, 'keys', 'validator.key'), 'utf8').trim()
    return privateKeyToAddress(`0x${key.replace(/^0x/, '')}`).toLowerCase()
  } catch {
    return undefined
  }
}

export function tail(path: string, chars = 3000): string {
  try {
    return readFileSync(path, 'utf8').slice(-chars)
  } catch {
    return ''
  }
}
