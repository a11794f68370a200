// The last lines before process.exit reach stdout and the log file: closeLogs waits for writes in
// flight, which pino's flush(cb) does not (it answers at once with an asynchronous stdout).
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('./fixtures/log-then-exit.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'cairn-close-logs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * Runs the fixture with its stdout pipe left unread for the first `stallMs`: the pipe fills, the
 * child's writes hit EAGAIN and wait for a retry — the state a busy reader (a log shipper, a
 * loaded CI machine) leaves a node in when it is told to stop.
 */
function run(args: string[], stallMs = 1500): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const chunks: Buffer[] = []
    child.stdout.pause()
    setTimeout(() => {
      child.stdout.on('data', (c: Buffer) => chunks.push(c))
      child.stdout.resume()
    }, stallMs)
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.once('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout: Buffer.concat(chunks).toString('utf8') })
    })
  })
}

describe('closeLogs', () => {
  it('writes every line to a piped stdout before the process exits, though the reader stalls', async () => {
    const res = await run([])
    expect(res.status).toBe(0)
    const lines = res.stdout.trim().split('\n')
    expect(lines).toHaveLength(5001)
    expect(lines.slice(0, 5000).map((l) => JSON.parse(l).i)).toEqual([...Array(5000).keys()])
    expect(JSON.parse(lines.at(-1) as string).msg).toBe('the last line')
  }, 40_000)

  it('drains the log file worker too', async () => {
    const res = await run([join(dir, 'node.log')], 0)
    expect(res.status).toBe(0)
    const files = readdirSync(dir).filter((f) => f.startsWith('node.'))
    const text = files.map((f) => readFileSync(join(dir, f), 'utf8')).join('')
    expect(text.trim().split('\n')).toHaveLength(5001)
    expect(text).toContain('"msg":"the last line"')
  }, 40_000)
})
