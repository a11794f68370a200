// Starts a dev node as a real child process (Cairn, or Anvil as a reference) and waits for its RPC.
//
// Every child is started in its own process group and tracked, so that whatever happens
// (failed test, timeout, Ctrl-C, worker exit) the whole group is killed and no orphan remains.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { constants, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanEnv, rpc, runCli } from '../cli/run-cli.ts'

export type NodeKind = 'cairn' | 'anvil'

export interface StartOptions {
  /** Chain data directory. Created in the OS temp dir when omitted. The caller owns (and removes) it. */
  datadir?: string
  /** RPC port. A free one is picked when omitted. */
  port?: number
  /** More `cairn start` flags (Cairn only), e.g. `['--block-time', '2']`. */
  args?: string[]
}

export interface NodeHandle {
  kind: NodeKind
  url: string
  port: number
  datadir: string
  pid: number
  /** SIGTERM, then wait for the exit; SIGKILL after `graceMs`. Resolves to the exit code (128 + signal if killed). */
  stop(graceMs?: number): Promise<number>
  /** Everything the process wrote to stdout and stderr so far (the last 2 MB). */
  logs(): string
}

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const CAIRN_BIN = join(REPO_ROOT, 'packages/node/bin/cairn.js')
export const CHAIN_ID = 1337

// CAIRN_E2E_READY_MS: longer on a machine under heavy load (the node runs from sources when its bundle is stale).
const READY_TIMEOUT_MS = Number(process.env.CAIRN_E2E_READY_MS ?? 20_000)
const READY_POLL_MS = 100
const MAX_LOG_CHARS = 2_000_000

// ---------------------------------------------------------------------------------------------
// Process tracking and cleanup

const live = new Set<ChildProcess>()

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal) // the whole process group (detached: true made the child its leader)
  } catch {
    // ESRCH: already gone
  }
}

/** SIGKILLs every node this process started and that is still running. Synchronous, safe to call anytime. */
export function killAllNodes(): void {
  for (const child of live) killGroup(child, 'SIGKILL')
  live.clear()
}

let cleanupInstalled = false
function installCleanup(): void {
  if (cleanupInstalled) return
  cleanupInstalled = true
  process.on('exit', killAllNodes)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllNodes()
      process.kill(process.pid, signal) // the handler is gone now: die the default way
    })
  }
}

// ---------------------------------------------------------------------------------------------
// Ports and commands

/** Asks the OS for a free port: listen on port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))))
    })
  })
}

/** Whether nothing listens on `port` of 127.0.0.1 (a listen there succeeds). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * The first of `count` consecutive free ports, for processes that take a port range (`cairn devnet
 * init --base-port`: node i on base + i - 1). Drawn below the kernel's ephemeral range (32768 and
 * up on Linux), where `freePort` and every outgoing connection take theirs: a range after an
 * ephemeral port could be taken port by port by other tests' connections before the processes
 * bind it (a devnet test once waited four minutes for a node that never started).
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = 20_000 + Math.floor(Math.random() * (12_000 - count))
    let free = true
    for (let p = start; p < start + count && free; p++) free = await bindable(p)
    if (free) return start
  }
  throw new Error(`no ${count} consecutive free ports below 32768`)
}

/**
 * The Anvil binary. The npm wrapper (node_modules/.bin/anvil) is a node script that re-raises
 * SIGTERM on itself right away, so its exit code says nothing about Anvil's and Anvil could
 * outlive it: use the platform binary it wraps. ANVIL_BIN overrides.
 */
export function anvilBinary(): string {
  if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN
  const scope = join(REPO_ROOT, 'node_modules/@foundry-rs')
  const platformDirs = existsSync(scope) ? readdirSync(scope).filter((d) => d.startsWith('anvil-')) : []
  for (const dir of platformDirs) {
    const bin = join(scope, dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
    if (existsSync(bin)) return bin
  }
  return join(REPO_ROOT, 'node_modules/.bin/anvil')
}

/**
 * Foundry's forge binary, or undefined: FORGE_BIN, else the platform binary of `@foundry-rs/forge`
 * installed in the repository (`npm install --no-save @foundry-rs/forge`) or in /tmp
 * (`cd /tmp && npm i @foundry-rs/forge`, which keeps it out of the repository's lockfile).
 */
export function forgeBinary(): string | undefined {
  if (process.env.FORGE_BIN) return existsSync(process.env.FORGE_BIN) ? process.env.FORGE_BIN : undefined
  const exe = process.platform === 'win32' ? 'forge.exe' : 'forge'
  for (const root of [REPO_ROOT, tmpdir(), '/tmp']) {
    const scope = join(root, 'node_modules/@foundry-rs')
    const platformDirs = existsSync(scope) ? readdirSync(scope).filter((d) => d.startsWith('forge-')) : []
    for (const dir of platformDirs) {
      const bin = join(scope, dir, 'bin', exe)
      if (existsSync(bin)) return bin
    }
  }
  return undefined
}

/**
 * The environment of the node: ours minus the test's own knobs. Cairn reads CAIRN_* variables as
 * config and rejects unknown keys, so CAIRN_E2E_ANVIL=1 would otherwise stop it from starting.
 */
function nodeEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CAIRN_E2E_')))
}

/** Where Anvil keeps its chain in a datadir (Anvil has no datadir: it dumps its state to a file on exit). */
export function anvilStateFile(datadir: string): string {
  return join(datadir, 'anvil-state.json')
}

function command(kind: NodeKind, datadir: string, port: number, extra: string[] = []): { cmd: string; args: string[] } {
  if (kind === 'cairn') {
    return {
      cmd: process.execPath,
      args: [
        CAIRN_BIN,
        'start',
        '--dev',
        '--datadir',
        datadir,
        '--http.port',
        String(port),
        '--http.addr',
        '127.0.0.1',
        ...extra,
      ],
    }
  }
  return {
    cmd: anvilBinary(),
    // --state loads the file if it exists and dumps the chain (state, blocks, transactions) to it on exit.
    args: [
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--chain-id',
      String(CHAIN_ID),
      '--silent',
      '--state',
      anvilStateFile(datadir),
    ],
  }
}

// ---------------------------------------------------------------------------------------------
// Starting and stopping

export async function startNode(kind: NodeKind, opts: StartOptions = {}): Promise<NodeHandle> {
  installCleanup()
  const datadir = opts.datadir ?? mkdtempSync(join(tmpdir(), `cairn-e2e-${kind}-`))
  const port = opts.port ?? (await freePort())
  const url = `http://127.0.0.1:${port}`
  const { cmd, args } = command(kind, datadir, port, opts.args)

  const child = spawn(cmd, args, { cwd: REPO_ROOT, env: nodeEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)

  let output = ''
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8')
    if (output.length > MAX_LOG_CHARS) output = output.slice(-MAX_LOG_CHARS)
  }
  child.stdout?.on('data', append)
  child.stderr?.on('data', append)

  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child)
      killGroup(child, 'SIGKILL') // anything the node itself left behind
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0))
    })
    child.once('error', (err) => {
      append(Buffer.from(`\n[harness] spawn error: ${err.message}\n`))
      live.delete(child)
      resolve(-1)
    })
  })

  const handle: NodeHandle = {
    kind,
    url,
    port,
    datadir,
    pid: child.pid ?? -1,
    logs: () => output,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs)
        try {
          return await exited
        } finally {
          clearTimeout(timer)
        }
      }
      return exited
    },
  }

  try {
    await waitForRpc(url, exited)
  } catch (err) {
    killGroup(child, 'SIGKILL')
    await exited
    const why = err instanceof Error ? err.message : String(err)
    throw new Error(
      `${kind} did not come up on ${url}: ${why}\n$ ${cmd} ${args.join(' ')}\n--- output ---\n${output}--- end ---`,
    )
  }
  return handle
}

/** Polls eth_chainId until it answers, the process exits, or READY_TIMEOUT_MS passes. */
async function waitForRpc(url: string, exited: Promise<number>): Promise<void> {
  let exitCode: number | undefined
  void exited.then((code) => {
    exitCode = code
  })
  const deadline = Date.now() + READY_TIMEOUT_MS
  let lastError = 'no answer yet'
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`process exited with code ${exitCode} before answering`)
    try {
      const response = await rpcRequest(url, 'eth_chainId', [], 1_000)
      if ('result' in response) return
      lastError = `eth_chainId answered ${JSON.stringify(response)}`
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err)
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS))
  }
  throw new Error(`eth_chainId did not answer within ${READY_TIMEOUT_MS} ms (last: ${lastError})`)
}

// ---------------------------------------------------------------------------------------------
// Raw JSON-RPC, for checks that must see the wire format rather than what a client library makes of it

export interface JsonRpcError {
  code: number
  message: string
  data?: unknown
}

export type JsonRpcResponse<T = unknown> =
  | { jsonrpc: '2.0'; id: number; result: T }
  | { jsonrpc: '2.0'; id: number; error: JsonRpcError }

let nextId = 1
export async function rpcRequest<T = unknown>(
  url: string,
  method: string,
  params: unknown[],
  timeoutMs = 10_000,
): Promise<JsonRpcResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  return (await response.json()) as JsonRpcResponse<T>
}

/**
 * `cairn devnet init --validators 4 --dir DIR` on free JSON-RPC and p2p base ports (node i serves on
 * base + i − 1), with `extra` options (e.g. `--signature-scheme hybrid`); throws with its stderr when
 * it fails. The ports, for the caller's URLs.
 */
export async function initDevnet(dir: string, extra: string[] = []): Promise<{ base: number; p2pBase: number }> {
  // JSON-RPC on base..base+4 and p2p on p2pBase..p2pBase+4 (the fifth: a copied validator).
  const base = await freePortRange(10)
  const p2pBase = base + 5
  const init = await runCli([
    'devnet',
    'init',
    '--validators',
    '4',
    '--dir',
    dir,
    '--base-port',
    String(base),
    '--p2p-base-port',
    String(p2pBase),
    ...extra,
  ])
  if (init.code !== 0) throw new Error(`cairn devnet init exited ${init.code}: ${init.stderr}`)
  return { base, p2pBase }
}

/** Polls `pred` every 250 ms (a throw counts as false) until true, or throws after `ms` with `out()`'s tail. */
export async function waitFor(
  pred: () => Promise<boolean>,
  ms: number,
  what: string,
  out?: () => string,
): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      if (await pred()) return
    } catch {}
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${out ? `\n${out().slice(-4000)}` : ''}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/**
 * Long-running `cairn` processes of one test file (`cairn devnet start`, `cairn signer serve`), each
 * in its own process group, with the devnet's node pids it prints; `killAll()` (in afterAll) ends
 * every one of them and their groups.
 */
export class CairnProcesses {
  readonly #started: ChildProcess[] = []
  readonly #nodePids: number[] = []

  constructor(private readonly env: Record<string, string> = {}) {}

  start(args: string[]): { child: ChildProcess; out: () => string } {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'packages/node/bin/cairn.js'), ...args], {
      env: cleanEnv(this.env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.#started.push(child)
    let out = ''
    const take = (d: Buffer) => {
      out += String(d)
      for (const m of String(d).matchAll(/\[devnet\] \S+ pid (\d+)/g)) this.#nodePids.push(Number(m[1]))
    }
    child.stdout?.on('data', take)
    child.stderr?.on('data', take)
    return { child, out: () => out }
  }

  killAll(): void {
    const pids = [...this.#nodePids]
    for (const p of this.#started)
      if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) pids.push(p.pid)
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {}
    }
  }
}

/**
 * The four nodes of a devnet made by {@link initDevnet}, each its own `cairn start --config
 * D/node-i.toml` (not `cairn devnet start`: a test reads each node's own output); `finalizedAtLeast`
 * waits until every node's finalized block is at least `n`, failing with the nodes' output tails.
 */
export function startDevnetNodes(
  procs: CairnProcesses,
  dir: string,
  base: number,
): {
  nodes: { child: ChildProcess; out: () => string }[]
  urls: string[]
  out: () => string
  finalizedAtLeast: (n: bigint, ms: number, what: string) => Promise<void>
} {
  const nodes = [1, 2, 3, 4].map((i) => procs.start(['start', '--config', join(dir, `node-${i}.toml`)]))
  const out = () => nodes.map((n, k) => `--- node-${k + 1}\n${n.out().slice(-1500)}`).join('\n')
  const urls = [0, 1, 2, 3].map((k) => `http://127.0.0.1:${base + k}`)
  const finalized = async (url: string) =>
    BigInt(((await rpc(url, 'eth_getBlockByNumber', ['finalized', false])) as { number: string }).number)
  return {
    nodes,
    urls,
    out,
    finalizedAtLeast: (n, ms, what) =>
      waitFor(async () => (await Promise.all(urls.map(finalized))).every((h) => h >= n), ms, what, out),
  }
}
