import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../src/index.ts'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function sink(lines: string[]): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      cb()
    },
  })
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}

const numbered = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /^node\.\d+\.log$/.test(f))
    .map((f) => Number(f.split('.')[1]))
    .sort((a, b) => a - b)

describe('log file', () => {
  it('writes JSON lines to the file as well as stdout, rotates by size and keeps only `keep` old files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-logs-'))
    dirs.push(dir)
    const stdout: string[] = []
    const logger = createLogger({
      level: 'info',
      format: 'json',
      destination: sink(stdout),
      file: { path: join(dir, 'node.log'), size: '2k', keep: 2 },
    })
    const payload = 'x'.repeat(200)
    // ~30 KB through a 2 KB limit: more than a dozen rotations.
    const read = (n: number) => readFileSync(join(dir, `node.${n}.log`), 'utf8')
    const written = (i: number) => numbered(dir).some((n) => read(n).includes(`"i":${i},`))
    // The file rolls once a write takes it past 2 KB: bursts of 10 lines (~2.8 KB), each waited
    // for, so that the worker writes them separately.
    for (let i = 0; i < 120; i++) {
      logger.info({ i, payload, apiKey: 'sk-live-secret' }, 'line')
      if (i % 10 === 9) await until(() => written(i))
    }
    const files = numbered(dir)
    expect(files.at(-1)).toBeGreaterThanOrEqual(10) // it rotated after (nearly) every burst
    // The active file plus at most `keep` rotated ones survive; the first ones were pruned.
    expect(files.length).toBeLessThanOrEqual(3)
    expect(files).not.toContain(1)
    const withLast = files.find((n) => read(n).includes('"i":119,')) as number
    const last = JSON.parse(read(withLast).trim().split('\n').at(-1) as string)
    expect(last).toMatchObject({ level: 'info', msg: 'line', i: 119, apiKey: '[redacted]' })
    for (const f of files) expect(read(f)).not.toContain('sk-live-secret')
    // stdout got every line too.
    expect(stdout).toHaveLength(120)
  })

  it('rotates by time and prunes past `keep`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-logs-'))
    dirs.push(dir)
    const logger = createLogger({
      level: 'info',
      format: 'json',
      destination: sink([]),
      file: { path: join(dir, 'node.log'), interval: 1000, keep: 1 },
    })
    const started = Date.now()
    for (let i = 0; Date.now() - started < 3300; i++) {
      logger.info({ i }, 'tick')
      await new Promise((r) => setTimeout(r, 100))
    }
    await until(() => (numbered(dir).at(-1) ?? 0) >= 3)
    const files = numbered(dir)
    expect(files.length).toBeLessThanOrEqual(2)
    expect(files).not.toContain(1)
  })
})
