// A damaged table file is reported as such — what is wrong and "restore a backup", with the
// command — by `cairn db check` (a finding, exit 1) and by `cairn start` (refused, exit 2), never
// as a stack trace; a truncated table is found when the store opens, before any read reaches it.
import { readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LevelKV } from '@cairn/db'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../cli/run-cli.ts'
import { buildFixtureChain } from './fixture.ts'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** The fixture chain with its write-ahead log compacted into table files (what a reopen does). */
async function chainInTables(): Promise<{ dir: string; tables: string[] }> {
  const dir = await buildFixtureChain()
  dirs.push(dir)
  const kv = new LevelKV({ path: join(dir, 'chaindata') })
  await kv.open()
  await kv.close()
  const tables = readdirSync(join(dir, 'chaindata'))
    .filter((f) => f.endsWith('.ldb'))
    .map((f) => join(dir, 'chaindata', f))
  return { dir, tables }
}

const start = (dir: string) =>
  runCli(['start', '--datadir', dir, '--profile', 'test', '--http.port', '0', '--p2p.port', '0'], { timeoutMs: 60_000 })

describe('a corrupted chain database', () => {
  let dir: string
  let tables: string[]
  beforeEach(async () => {
    ;({ dir, tables } = await chainInTables())
    expect(tables.length).toBeGreaterThan(0)
  })

  it('damaged data blocks: db check reports it (exit 1), start refuses with the restore command (exit 2)', async () => {
    const table = tables.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b))
    const bytes = readFileSync(table)
    for (let i = 64; i < bytes.length - 64; i++) bytes[i] = (bytes[i] as number) ^ 0x5a
    writeFileSync(table, bytes)

    const check = await runCli(['db', 'check', '--datadir', dir])
    expect(check.code).toBe(1)
    expect(check.stdout).toMatch(/^PROBLEM: the chain database at .*chaindata is corrupted \(LevelDB: Corruption: /m)
    expect(check.stdout).toContain(`restore a backup: cairn db restore <backup dir> --datadir ${dir} --force`)
    expect(check.stderr).not.toMatch(/\n\s+at /)

    const started = await start(dir)
    expect(started.listening).toBe(false)
    expect(started.code).toBe(2)
    expect(started.stderr).toMatch(/^error: the chain database at .* is corrupted/m)
    expect(started.stderr).toContain('restore a backup')
    expect(started.stderr).not.toMatch(/\n\s+at /)
  })

  it('a truncated table is found when the store opens, naming the file', async () => {
    const table = tables[0] as string
    truncateSync(table, statSync(table).size - 20)
    const started = await start(dir)
    expect(started.code).toBe(2)
    const name = table.split('/').pop() as string
    expect(started.stderr).toContain(
      `damaged table file(s): ${name} (its footer does not end with the table magic number)`,
    )
    const check = await runCli(['db', 'check', '--datadir', dir])
    expect(check.code).toBe(1)
    expect(check.stdout).toContain(name)
  })
})
