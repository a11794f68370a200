import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The real `cairn` executable of this checkout, run as a user runs it. */
const CAIRN_BIN = join(dirname(fileURLToPath(import.meta.url)), '../../packages/node/bin/cairn.js')

/** Runs `cairn <args>` to completion; throws with its output when it exits non-zero. */
export async function cairn(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [CAIRN_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const out = collect(child)
  const [code] = (await once(child, 'exit')) as [number | null]
  if (code !== 0) throw new Error(`cairn ${args[0]} exited ${code}: ${out().trim().slice(-2000)}`)
  return out()
}

/** A running `cairn start`: its RPC URL and how to stop it. */
export interface RunningCairn {
  url: string
  /** SIGTERM, then the exit (a clean shutdown closes the database). */
  stop(): Promise<void>
}

/**
 * Starts `cairn start <args>` (with `--http.port 0`: the OS picks a free port) and resolves once
 * it prints the address it listens on; rejects with its output if it exits first.
 */
export async function startCairn(args: string[]): Promise<RunningCairn> {
  const child = spawn(process.execPath, [CAIRN_BIN, 'start', ...args, '--http.port', '0', '--p2p.enabled', 'false'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = collect(child)
  const exited = once(child, 'exit')
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /Listening on (http:\/\/\S+)/.exec(out())
      if (m?.[1]) {
        child.stdout?.off('data', onData)
        resolve(m[1])
      }
    }
    child.stdout?.on('data', onData)
    exited.then(([code]) => reject(new Error(`cairn start exited ${code} before listening: ${out().slice(-2000)}`)))
  })
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** Keeps a child's stdout and stderr (the last 256 KiB; both drained, so it never blocks on a full pipe). */
function collect(child: ChildProcess): () => string {
  let text = ''
  const add = (d: string) => {
    text += d
    if (text.length > 512 * 1024) text = text.slice(-256 * 1024)
  }
  child.stdout?.setEncoding('utf8').on('data', add)
  child.stderr?.setEncoding('utf8').on('data', add)
  return () => text
}
