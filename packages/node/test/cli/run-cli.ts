// Runs the real `cairn` executable (packages/node/bin/cairn.js) as a child process.
//
// Every child gets its own process group and is tracked; whatever happens to the test, the group
// is SIGKILLed on exit so that no node outlives the run.
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Chain } from '@cairn/chain'
import { LevelKV } from '@cairn/db'
import { bytesToHex, silentLogger } from '@cairn/utils'

export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
export const CAIRN_BIN = join(REPO_ROOT, 'packages/node/bin/cairn.js')

export interface CliResult {
  /** Exit code; null when the process was killed (timeout, or a `start` that came up and was stopped). */
  code: number | null
  stdout: string
  stderr: string
  /** For `start`: true when the node printed its banner (it came up although it should not have). */
  listening: boolean
  /** The URL the node listens on, when it came up. */
  url?: string
}

const live = new Set<ChildProcess>()

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  for (const child of live) killGroup(child)
})

/** process.env without any CAIRN_* variable (the test's own settings must not leak into the node), plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('CAIRN_')) env[k] = v
  return { ...env, NO_COLOR: '1', ...extra }
}

export interface RunOptions {
  env?: Record<string, string>
  cwd?: string
  /** Kill the process after this long (the result then has code null). */
  timeoutMs?: number
  /**
   * For commands that may start a node: once it prints "Listening on", SIGKILL it right away
   * (default true; the result then has `listening: true`).
   */
  stopWhenListening?: boolean
}

const LISTENING = /Listening on (http:\/\/[^\s]+)/

/** Runs `cairn <args>` to completion (or until it listens / times out). */
export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CAIRN_BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: cleanEnv(opts.env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    live.add(child)
    let stdout = ''
    let stderr = ''
    let listening = false
    let url: string | undefined
    const timer = setTimeout(() => killGroup(child), opts.timeoutMs ?? 60_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
      const m = LISTENING.exec(stdout)
      if (m && !listening) {
        listening = true
        url = m[1]
        if (opts.stopWhenListening !== false) killGroup(child)
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      live.delete(child)
      killGroup(child)
      resolve({ code, stdout, stderr, listening, ...(url ? { url } : {}) })
    })
  })
}

export interface RunningNode {
  url: string
  stdout(): string
  /** SIGTERM, wait for the exit; resolves to the exit code. */
  stop(): Promise<number | null>
  /** Closes the test's ends of the node's stdout and stderr pipes (its reader went away). */
  closeOutput(): void
  /** Resolves to the exit code once the node has exited. */
  exited: Promise<number | null>
}

/**
 * Starts `cairn start <args>` (or another long-running `command`, e.g. `['arb', 'start']`) and waits
 * until its output matches `ready` (default: the node's "Listening on URL"; the first group is the
 * URL). Args should include `--http.port 0`.
 */
export function startCli(
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; command?: string[]; ready?: RegExp } = {},
) {
  const command = opts.command ?? ['start']
  const ready = opts.ready ?? LISTENING
  return new Promise<RunningNode>((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN_BIN, ...command, ...args], {
      cwd: REPO_ROOT,
      env: cleanEnv(opts.env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    live.add(child)
    let out = ''
    let up = false
    const exited = new Promise<number | null>((res) => {
      child.once('close', (code) => {
        live.delete(child)
        killGroup(child)
        res(code)
      })
    })
    const timer = setTimeout(() => {
      killGroup(child)
      reject(new Error(`cairn ${command.join(' ')} ${args.join(' ')} did not come up:\n${out}`))
    }, opts.timeoutMs ?? 60_000)
    void exited.then((code) => {
      if (!up) {
        clearTimeout(timer)
        reject(new Error(`cairn ${command.join(' ')} ${args.join(' ')} exited with ${code}:\n${out}`))
      }
    })
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8')
      const m = ready.exec(out)
      if (m && !up) {
        up = true
        clearTimeout(timer)
        resolve({
          url: m[1] as string,
          stdout: () => out,
          closeOutput: () => {
            child.stdout?.destroy()
            child.stderr?.destroy()
          },
          exited,
          stop: async () => {
            child.kill('SIGTERM')
            const t = setTimeout(() => killGroup(child), 15_000)
            try {
              return await exited
            } finally {
              clearTimeout(t)
            }
          },
        })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
  })
}

/** POSTs one JSON-RPC request. */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as { result?: unknown; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}

/** Path → sha256 of every file under `dir` (empty when it does not exist). */
export function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  if (!existsSync(dir)) return out
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex')
    }
  }
  walk(dir)
  return out
}

export interface StoredChain {
  chainId: bigint
  genesisHash: string
  headNumber: bigint
  headHash: string
}

/** Reopens a datadir's chain (with its stored genesis) and reports what it holds. */
export async function readStoredChain(datadir: string): Promise<StoredChain> {
  const kv = new LevelKV({ path: join(datadir, 'chaindata') })
  await kv.open()
  try {
    const chain = await Chain.open(
      {},
      {
        kv,
        logger: silentLogger,
        metrics: null,
        engine: {
          name: 'test',
          validateHeader: async () => {},
          preferHead: async () => false,
          safeNumber: (h) => h.number,
          finalizedNumber: (h) => h.number,
        },
      },
    )
    return {
      chainId: chain.chainId,
      genesisHash: bytesToHex(chain.genesisBlock.hash()),
      headNumber: chain.head.header.number,
      headHash: bytesToHex(chain.head.hash()),
    }
  } finally {
    await kv.close()
  }
}

/** The lines of a process's stderr, without the final newline. */
export function stderrLines(r: CliResult): string[] {
  return r.stderr.replace(/\n$/, '').split('\n')
}
