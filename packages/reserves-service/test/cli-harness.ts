// Runs the real `cairn` executable for the reserves CLI tests: one process per command.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'

/** The `cairn` executable (packages/node/bin/cairn.js). */
export const CAIRN_BIN = new URL('../../node/bin/cairn.js', import.meta.url).pathname

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

const run = promisify(execFile)

/** `cairn reserves <args>` run in `cwd`, to completion; a non-zero exit is a result, not an error. */
export function reservesCli(cwd: string): (...args: string[]) => Promise<CliResult> {
  return async (...args) => {
    try {
      const r = await run('node', [CAIRN_BIN, 'reserves', ...args], { cwd })
      return { code: 0, stdout: r.stdout, stderr: r.stderr }
    } catch (err) {
      const e = err as CliResult
      return { code: e.code, stdout: e.stdout, stderr: e.stderr }
    }
  }
}

/** A `cairn reserves serve` process that listens. */
export interface Served {
  url: string
  child: ChildProcess
  /** Everything it wrote so far (stdout and stderr). */
  out: () => string
  exited: Promise<void>
}

/**
 * Starts `cairn reserves serve <args>` (with `--http.port 0` among them) and resolves once it logs
 * the address it listens on; rejects with its output if it exits first. The child goes into
 * `children` (the test kills what is left there).
 */
export function startServe(args: string[], children: ChildProcess[]): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN_BIN, 'reserves', 'serve', ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let out = ''
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    const onData = (b: Buffer) => {
      out += b.toString()
      const m = /"addr":"(http:\/\/[^"]+)"/.exec(out)
      if (m?.[1]) resolve({ url: m[1], child, out: () => out, exited })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`serve exited ${code}:\n${out}`)))
  })
}
