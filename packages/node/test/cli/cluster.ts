// Real `cairn start` processes for the p2p e2e tier: each in its own process group, SIGKILLed
// when the test process exits whatever happens; the p2p multiaddr read from the JSON log.
import { type ChildProcess, spawn } from 'node:child_process'
import { CAIRN_BIN, cleanEnv, REPO_ROOT } from './run-cli.ts'

const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL')
})

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

export interface CairnProcess {
  url: string
  /** The p2p multiaddr `/ip4/127.0.0.1/tcp/…/p2p/<id>`. */
  addr: string
  /** The node's process id (its CPU time: /proc). */
  pid: number | undefined
  out(): string
  /** SIGTERM and wait for the exit (SIGKILL after 15 s). */
  stop(): Promise<number | null>
  /** SIGKILL (kill -9) and wait for the exit. */
  kill9(): Promise<void>
}

const LISTENING = /Listening on (http:\/\/[^\s]+)/
const P2P_ADDR = /"addrs":\["(\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/[A-Za-z0-9]+)"/

/**
 * `cairn start <args> --http.port 0 --p2p.port 0 --p2p.addr 127.0.0.1 --log.format json`, once RPC
 * and p2p listen (`env`: CAIRN_ settings on top of an environment cleared of the caller's).
 */
export function startCairn(
  args: string[],
  timeoutMs = 30_000,
  env: Record<string, string> = {},
  /** Node's own flags for the process (`--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs: string[] = [],
): Promise<CairnProcess> {
  const all = [
    ...nodeArgs,
    CAIRN_BIN,
    'start',
    ...args,
    '--http.port',
    '0',
    '--http.addr',
    '127.0.0.1',
    '--p2p.port',
    '0',
    '--p2p.addr',
    '127.0.0.1',
    '--log.format',
    'json',
  ]
  const child = spawn(process.execPath, all, {
    cwd: REPO_ROOT,
    env: cleanEnv(env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  return superviseCairn(child, {
    what: `cairn ${args.join(' ')}`,
    listening: LISTENING,
    addr: P2P_ADDR,
    timeoutMs,
    onExit: () => live.delete(child),
  })
}

/**
 * Watches a spawned `cairn start` (the leader of its own process group, `detached`): resolves once
 * its output shows the RPC URL (`listening`'s group 1) and the p2p multiaddr (`addr`'s), rejects
 * with the output's tail when it exits or `timeoutMs` passes first. Its group is SIGKILLed when it
 * exits (children it left) or times out. Used by `startCairn` and the network-namespace lab.
 */
export function superviseCairn(
  child: ChildProcess,
  opts: { what: string; listening: RegExp; addr: RegExp; timeoutMs: number; onExit?: () => void },
): Promise<CairnProcess> {
  return new Promise((resolve, reject) => {
    let out = ''
    let up = false
    const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)))
    void exited.then((code) => {
      opts.onExit?.()
      killGroup(child, 'SIGKILL')
      if (!up) {
        clearTimeout(timer)
        reject(new Error(`${opts.what} exited with ${code}:\n${out.slice(-3000)}`))
      }
    })
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL')
      reject(new Error(`${opts.what} did not come up:\n${out.slice(-3000)}`))
    }, opts.timeoutMs)
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8')
      const url = opts.listening.exec(out)?.[1]
      const addr = opts.addr.exec(out)?.[1]
      if (up || !url || !addr) return
      up = true
      clearTimeout(timer)
      resolve({
        url,
        addr,
        pid: child.pid,
        out: () => out,
        stop: async () => {
          killGroup(child, 'SIGTERM')
          const t = setTimeout(() => killGroup(child, 'SIGKILL'), 15_000)
          try {
            return await exited
          } finally {
            clearTimeout(t)
          }
        },
        kill9: async () => {
          killGroup(child, 'SIGKILL')
          await exited
        },
      })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
  })
}

/** One JSON-RPC call. */
export async function call<T>(url: string, method: string, params: unknown[] = [], timeoutMs = 10_000): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

export async function headOf(url: string): Promise<{ number: number; hash: string }> {
  const b = await call<{ number: string; hash: string }>(url, 'eth_getBlockByNumber', ['latest', false])
  return { number: Number(b.number), hash: b.hash }
}

/** Polls until `cond` holds (the wait ends at the event), or fails after `ms`. */
export async function waitFor(cond: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await cond().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** The value of a metric on a node's /metrics (summed over series matching `labels`). */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${url.replace(/\/$/, '')}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}
