import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RpcClient } from './rpc-client.ts'

/** A node under test, running as a child process. */
export interface Target {
  name: string
  url: string
  /** The node's process id (to read its CPU time). */
  pid: number | undefined
  stop(): Promise<void>
}

/** A TCP port free on 127.0.0.1 now (the OS's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** A bench setting from the environment: `name` as a number, `dflt` when unset or empty. */
export function envNumber(name: string, dflt: number): number {
  const v = process.env[name]
  return v !== undefined && v !== '' ? Number(v) : dflt
}

/** CPU time (user + system) a process and its descendants have used so far, in ms; undefined where /proc is missing. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  const own = ownCpuMs(pid)
  if (own === undefined) return undefined
  // A wrapper (npm's `.bin/anvil` is a Node script that spawns the binary) does none of the work:
  // its descendants' CPU counts too, or such a node would show 0 µs a request.
  let total = own
  for (const child of childrenOf(pid)) total += cpuMsOf(child) ?? 0
  return total
}

function ownCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return undefined
  }
}

/** The live children of `pid` (every thread's, from /proc's `children` lists). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    )
  } catch {
    return []
  }
}

/** The `cairn` executable the bench starts (`BENCH_CAIRN_BIN`: another build's launcher, for an A/B). */
const CAIRN_BIN = process.env.BENCH_CAIRN_BIN ?? fileURLToPath(new URL('../bin/cairn.js', import.meta.url))
const ANVIL_PATHS = ['/tmp/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil']

/** Where the Anvil binary is: `$ANVIL_BIN`, the dev dependency, or the /tmp install; else undefined. */
export function findAnvil(envPath: string | undefined): string | undefined {
  const local = fileURLToPath(new URL('../../../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil', import.meta.url))
  for (const p of [envPath, local, ...ANVIL_PATHS]) if (p && existsSync(p)) return p
  return undefined
}

/**
 * Starts a throw-away Cairn dev node (instant sealing) on `port`: in memory (`--ephemeral`), or on
 * a datadir of its own in the temp directory (`store: 'datadir'`, what a user runs; removed at stop).
 */
export async function startCairn(
  port: number,
  extraArgs: string[] = [],
  nodeArgs: string[] = [],
  store: 'ephemeral' | 'datadir' = 'ephemeral',
): Promise<Target> {
  const datadir = store === 'datadir' ? mkdtempSync(join(tmpdir(), 'cairn-bench-')) : undefined
  const storeArgs = datadir ? ['--datadir', datadir] : ['--ephemeral']
  // --automine-batch: the transfer bench's throughput comes from big blocks, sealing paced under
  // load (the dev default seals at once on each arrival, as Anvil's automine).
  const args = [...nodeArgs, CAIRN_BIN, 'start', '--dev', '--automine-batch', ...storeArgs, '--http.port', String(port)]
  const child = spawn(process.execPath, [...args, '--log.level', 'warn', ...extraArgs], { stdio: 'pipe' })
  const removeDatadir = () => {
    if (datadir) rmSync(datadir, { recursive: true, force: true })
  }
  try {
    const target = await start('cairn', port, child)
    return {
      ...target,
      async stop() {
        await target.stop()
        removeDatadir()
      },
    }
  } catch (err) {
    child.kill('SIGKILL')
    removeDatadir()
    throw err
  }
}

/** Starts Anvil on `port` with the flags of the reference figures. */
/**
 * Anvil with `--block-time` (0: automine) and a block gas limit that leaves room for the load: at
 * its default 30,000,000 one block a second caps it at 1,428 transfers a second whatever its
 * speed, which is the cap measured, not Anvil (issue 20).
 */
export function startAnvil(bin: string, port: number, blockTime: number, gasLimit: bigint): Promise<Target> {
  const args = ['--port', String(port), '--chain-id', '1337', '--silent', '--gas-limit', String(gasLimit)]
  if (blockTime > 0) args.push('--block-time', String(blockTime))
  return start('anvil', port, spawn(bin, args, { stdio: 'pipe' }))
}

async function start(name: string, port: number, child: ChildProcess): Promise<Target> {
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000)
  })
  child.stdout?.resume()
  const url = `http://127.0.0.1:${port}`
  const client = new RpcClient(url, 1)
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${stderr}`)
    try {
      await client.call('eth_chainId')
      break
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} did not answer on ${url} within 60 s: ${stderr}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  client.close()
  return {
    name,
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
