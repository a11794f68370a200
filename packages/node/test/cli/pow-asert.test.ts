// `cairn pow asert` in-process, as the user's command line reaches it (the lazy program's stand-in
// loads the `pow` module and parses the same arguments): the specification's published test
// vectors (packages/consensus/test/pow/fixtures/aserti3-2d) through the flags, then bad input.
// pow-asert.e2e.test.ts runs the real executable once.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Command, CommanderError } from 'commander'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { registerPow } from '../../src/cli/commands/pow.ts'
import { buildProgram } from '../../src/cli/program.ts'
import { throwUsageErrors } from '../../src/cli/run-program.ts'

const VECTORS = join(import.meta.dirname, '../../../consensus/test/pow/fixtures/aserti3-2d')

interface Vector {
  run: string
  args: string[]
  want: string
}

/** Every vector as the flags of a `cairn pow asert` call. */
function vectors(): Vector[] {
  const out: Vector[] = []
  for (const run of readdirSync(VECTORS).filter((f) => /^run\d\d$/.test(f))) {
    const text = readFileSync(join(VECTORS, run), 'utf8')
    const field = (name: string) => new RegExp(`^##\\s+${name}:\\s*(\\S+)`, 'm').exec(text)?.[1] as string
    const anchor = ['--anchor-height', field('anchor height'), '--anchor-parent-time', field('anchor parent time')]
    anchor.push('--anchor-bits', field('anchor nBits'))
    for (const line of text.split('\n')) {
      const m = /^\d+ (\d+) (-?\d+) (0x[0-9a-f]{8})$/.exec(line.trim())
      if (m) out.push({ run, args: [...anchor, '--height', m[1]!, '--time', m[2]!], want: m[3]! })
    }
  }
  return out
}

/** Runs `cairn pow asert ARGS` on a fresh command tree; what it printed, or the error it threw. */
async function asert(args: string[], program?: Command): Promise<{ out: string; error?: Error }> {
  let out = ''
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  try {
    const p = program ?? new Command().exitOverride().configureOutput({ writeErr: () => {} })
    if (!program) registerPow(p)
    throwUsageErrors(p)
    await p.parseAsync(['pow', 'asert', ...args], { from: 'user' })
    return { out }
  } catch (error) {
    return { out, error: error as Error }
  } finally {
    write.mockRestore()
  }
}

afterEach(() => vi.restoreAllMocks())

describe('cairn pow asert', () => {
  // All 14,000 through the module: consensus/test/pow/asert.test.ts. Through the flags (0.5 ms a
  // call): each run whole up to 100 vectors (run09–run10's heights past 2^31 and 2^63 among them),
  // and every 25th of the longer ones (random and negative solve times).
  it('prints the published vectors’ targets, bit for bit', async () => {
    const all = vectors()
    expect(all.length).toBe(14_000)
    const perRun = new Map<string, number>()
    for (const v of all) perRun.set(v.run, (perRun.get(v.run) ?? 0) + 1)
    const sample = all.filter((v, i) => i % 25 === 0 || perRun.get(v.run)! <= 100)
    expect(new Set(sample.map((v) => v.run)).size).toBe(12)
    const wrong: string[] = []
    for (const v of sample) {
      const r = await asert(v.args)
      if (r.out !== `${v.want}\n`)
        wrong.push(`${v.run} ${v.args.join(' ')}: ${r.error?.message ?? r.out}, want ${v.want}`)
    }
    expect(wrong.slice(0, 5), `${wrong.length} wrong`).toEqual([])
  })

  it('runs through the lazy `cairn` program with the specification’s defaults', async () => {
    const program = await buildProgram()
    program.exitOverride()
    const r = await asert(
      [
        '--anchor-height',
        '1',
        '--anchor-parent-time',
        '0',
        '--anchor-bits',
        '0x1d00ffff',
        '--height',
        '2',
        '--time',
        '0',
      ],
      program,
    )
    expect(r).toEqual({ out: '0x1d00fec5\n' }) // run05's first vector
  })

  it('takes other parameters: a 12 s spacing, a one-hour half-life, a 2^256 pow limit', async () => {
    const base = ['--anchor-height', '0', '--anchor-parent-time', '0', '--anchor-bits', '0x2000ffff']
    const params = ['--spacing', '12', '--half-life', '3600', '--pow-limit', '0x2100ffff']
    // on schedule: the anchor's target; one half-life behind: twice it
    expect((await asert([...base, ...params, '--height', '9', '--time', '120'])).out).toBe('0x2000ffff\n')
    expect((await asert([...base, ...params, '--height', '9', '--time', '3720'])).out).toBe('0x2001fffe\n')
  })

  it.each([
    [['--anchor-bits', '0x1d80ffff'], 'CONSENSUS_POW_INVALID_BITS', /negative/],
    [['--anchor-bits', 'ffff'], 'CONSENSUS_POW_INVALID_BITS', /--anchor-bits: "ffff" is not compact bits/],
    [['--pow-limit', '0x1c00ffff'], 'CONSENSUS_POW_INVALID_BITS', /above the proof-of-work limit/],
    [['--height', '1.5'], 'CONSENSUS_POW_INVALID_PARAMS', /--height: "1.5" is not an integer/],
    [['--height', '0'], 'CONSENSUS_POW_INVALID_PARAMS', /below the anchor's/],
    [['--half-life', '0'], 'CONSENSUS_POW_INVALID_PARAMS', /--half-life must be at least 1/],
    [['--time', '99999999999999999999'], 'CONSENSUS_POW_INVALID_PARAMS', /off the anchor's schedule/],
  ])('refuses %j with %s', async (bad, code, message) => {
    const args = new Map(
      Object.entries({
        '--anchor-height': '1',
        '--anchor-parent-time': '0',
        '--anchor-bits': '0x1d00ffff',
        '--height': '2',
        '--time': '1200',
      }),
    )
    for (let i = 0; i < bad.length; i += 2) args.set(bad[i]!, bad[i + 1]!)
    const r = await asert([...args].flat())
    expect(r.out).toBe('')
    expect({ code: (r.error as { code?: string }).code, fault: (r.error as { fault?: string }).fault }).toEqual({
      code,
      fault: 'caller',
    })
    expect(r.error?.message).toMatch(message)
  })

  it('says which flag is missing', async () => {
    const r = await asert(['--anchor-height', '1'])
    expect(r.error).toBeInstanceOf(CommanderError)
    expect(r.error?.message).toMatch(/required option '--anchor-parent-time <t>' not specified/)
  })
})
