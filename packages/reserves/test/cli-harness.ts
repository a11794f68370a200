// Runs the real `cairn` executable for the reserves CLI tests: one process per command.
import { execFile } from 'node:child_process'
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
