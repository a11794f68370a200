// `cairn dag ghostdag` as a user runs it: the real executable over Kaspa's dag0.json prints Kaspa's
// results; an unknown parent exits 2 with one line naming the block.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CAIRN_BIN, cleanEnv, REPO_ROOT } from './run-cli.ts'

const DAG0 = join(REPO_ROOT, 'packages/consensus/test/ghostdag/fixtures/dag0.json')

function cairn(args: string[]) {
  const r = spawnSync(process.execPath, [CAIRN_BIN, 'dag', 'ghostdag', ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('cairn dag ghostdag (process)', { timeout: 120_000 }, () => {
  it("prints Kaspa's results for dag0.json and exits 0", () => {
    const r = cairn([DAG0])
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    const kaspa = JSON.parse(readFileSync(DAG0, 'utf8'))
    const printed = JSON.parse(r.stdout).blocks
    expect(
      printed.map((b: { id: string; blueScore: number; mergesetReds: string[] }) => [
        b.id,
        b.blueScore,
        b.mergesetReds,
      ]),
    ).toEqual(
      kaspa.Blocks.map((b: { ID: string; ExpectedScore: number; ExpectedReds: string[] }) => [
        b.ID,
        b.ExpectedScore,
        b.ExpectedReds,
      ]),
    )
  })

  it('refuses an unknown parent with exit 2 and one line naming the block', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cairn-dag-e2e-')), 'bad.json')
    writeFileSync(
      file,
      JSON.stringify({
        K: 3,
        GenesisID: 'G',
        Blocks: [
          { ID: 'a', Parents: ['G'] },
          { ID: 'b', Parents: ['q'] },
        ],
      }),
    )
    const r = cairn([file])
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'error: block b has an unknown parent q\n' })
  })
})
