// `cairn dag ghostdag` in-process, through the lazy program as the user's command line reaches it:
// Kaspa's six test DAGs (packages/consensus/test/ghostdag/fixtures, from rusty-kaspa) print Kaspa's
// results for every block; --k replaces the file's K; bad input is refused naming the block.
// dag-ghostdag.e2e.test.ts runs the real executable.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { buildProgram } from '../../src/cli/program.ts'
import { throwUsageErrors } from '../../src/cli/run-program.ts'

const FIXTURES = join(import.meta.dirname, '../../../consensus/test/ghostdag/fixtures')
const TMP = mkdtempSync(join(tmpdir(), 'cairn-dag-'))

/** Runs `cairn dag ghostdag ARGS` through the lazy program: what it printed, or what it threw. */
async function ghostdag(args: string[]): Promise<{ out: string; error?: Error & { code?: string; fault?: string } }> {
  let out = ''
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  try {
    const program = await buildProgram()
    throwUsageErrors(program)
    await program.parseAsync(['node', 'cairn', 'dag', 'ghostdag', ...args])
    return { out }
  } catch (error) {
    return { out, error: error as Error }
  } finally {
    write.mockRestore()
  }
}

function dagFile(name: string, dag: unknown): string {
  const file = join(TMP, name)
  writeFileSync(file, typeof dag === 'string' ? dag : JSON.stringify(dag))
  return file
}

afterEach(() => vi.restoreAllMocks())

describe('cairn dag ghostdag', { timeout: 60_000 }, () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'))

  it.each(files)("prints Kaspa's results for every block of %s", async (file) => {
    const kaspa = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8'))
    const r = await ghostdag([join(FIXTURES, file)])
    expect(r.error).toBeUndefined()
    expect(r.out.endsWith('}\n') && r.out.split('\n').length === 2).toBe(true)
    const printed = JSON.parse(r.out)
    expect(printed).toEqual({
      blocks: kaspa.Blocks.map((b: Record<string, unknown>) => ({
        id: b.ID,
        blueScore: b.ExpectedScore,
        selectedParent: b.ExpectedSelectedParent,
        mergesetBlues: b.ExpectedBlues,
        mergesetReds: b.ExpectedReds,
      })),
    })
  })

  it('takes K from --k in place of the file’s', async () => {
    // Four blocks on the genesis, merged by one: with K=1 two of the three merged are red.
    const dag = {
      K: 4,
      GenesisID: 'G',
      Blocks: [
        { ID: 'a', Parents: ['G'] },
        { ID: 'b', Parents: ['G'] },
        { ID: 'c', Parents: ['G'] },
        { ID: 'd', Parents: ['a', 'b', 'c'] },
      ],
    }
    const file = dagFile('k.json', dag)
    const last = async (args: string[]) => JSON.parse((await ghostdag(args)).out).blocks.at(-1)
    expect(await last([file])).toMatchObject({ blueScore: 4, mergesetReds: [] })
    expect(await last([file, '--k', '1'])).toEqual({
      id: 'd',
      blueScore: 3,
      selectedParent: 'c',
      mergesetBlues: ['c', 'a'],
      mergesetReds: ['b'],
    })
  })

  const genesis = { K: 3, GenesisID: 'G' }
  it.each([
    [
      'an unknown parent',
      {
        ...genesis,
        Blocks: [
          { ID: 'a', Parents: ['G'] },
          { ID: 'b', Parents: ['zz'] },
        ],
      },
      /block b has an unknown parent zz/,
    ],
    [
      'a block before its parent',
      {
        ...genesis,
        Blocks: [
          { ID: 'b', Parents: ['a'] },
          { ID: 'a', Parents: ['G'] },
        ],
      },
      /block b comes before its parent a/,
    ],
    [
      'a cycle',
      {
        ...genesis,
        Blocks: [
          { ID: 'a', Parents: ['b'] },
          { ID: 'b', Parents: ['a'] },
        ],
      },
      /block a comes before its parent b \(out of order, or a cycle\)/,
    ],
    [
      'a block its own parent',
      { ...genesis, Blocks: [{ ID: 'a', Parents: ['a'] }] },
      /block a comes before its parent a/,
    ],
    [
      'a duplicate id',
      {
        ...genesis,
        Blocks: [
          { ID: 'a', Parents: ['G'] },
          { ID: 'a', Parents: ['G'] },
        ],
      },
      /block a appears twice/,
    ],
    ['the genesis again', { ...genesis, Blocks: [{ ID: 'G', Parents: ['G'] }] }, /block G appears twice/],
    [
      'a parent named twice',
      { ...genesis, Blocks: [{ ID: 'a', Parents: ['G', 'G'] }] },
      /block a names a parent twice/,
    ],
    [
      'a parent in the past of another',
      {
        ...genesis,
        Blocks: [
          { ID: 'a', Parents: ['G'] },
          { ID: 'b', Parents: ['a', 'G'] },
        ],
      },
      /names parent .* in the past of its parent/,
    ],
    ['no parents', { ...genesis, Blocks: [{ ID: 'a', Parents: [] }] }, /block a: Parents must be a non-empty array/],
    ['a negative K', { ...genesis, K: -1, Blocks: [] }, /K must be an integer in \[0, 65535\], got -1/],
    ['a fractional K', { ...genesis, K: 1.5, Blocks: [] }, /K must be an integer in \[0, 65535\], got 1.5/],
    ['a K as a string', { ...genesis, K: '4', Blocks: [] }, /K must be an integer in \[0, 65535\], got "4"/],
    [
      'an id over 32 bytes',
      { ...genesis, Blocks: [{ ID: 'x'.repeat(33), Parents: ['G'] }] },
      /Blocks\[0\]: id "x{33}" is not 1 to 32/,
    ],
    ['no Blocks', { ...genesis }, /Blocks must be an array/],
    ['not JSON', '{"K": 4,', /is not JSON/],
  ])('refuses %s, naming it', async (name, dag, message) => {
    const r = await ghostdag([dagFile(`${name.replace(/\W/g, '-')}.json`, dag)])
    expect(r.out).toBe('')
    expect({ code: r.error?.code, fault: r.error?.fault }).toEqual({
      code: 'CONSENSUS_GHOSTDAG_INVALID_DAG',
      fault: 'caller',
    })
    expect(r.error?.message).toMatch(message)
    expect(r.error?.message).not.toContain('\n')
  })

  it('refuses a bad --k and a missing file', async () => {
    const file = dagFile('ok.json', { ...genesis, Blocks: [{ ID: 'a', Parents: ['G'] }] })
    expect((await ghostdag([file, '--k', 'four'])).error?.message).toMatch(/--k: "four" is not a whole number/)
    expect((await ghostdag([file, '--k', '70000'])).error?.message).toMatch(
      /--k: K must be an integer in \[0, 65535\], got 70000/,
    )
    const missing = await ghostdag([join(TMP, 'nope.json')])
    expect({ fault: missing.error?.fault, message: missing.error?.message }).toEqual({
      fault: 'caller',
      message: `cannot read ${join(TMP, 'nope.json')}: ENOENT`,
    })
  })
})
