import { Readable } from 'node:stream'
import { isCairnError } from '@cairn/utils'
import { parse as parseCsv } from 'csv-parse/sync'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { splitCsvLine } from '../src/input/csv-line.ts'
import { readSnapshot, readSnapshotText } from '../src/input/read.ts'

function refusal(fn: () => unknown): { errorCount: number; errors: { line: number; reason: string }[] } {
  try {
    fn()
  } catch (err) {
    if (isCairnError(err, 'RESERVES_INPUT_INVALID')) return err.meta as never
    throw err
  }
  throw new Error('not refused')
}

describe('snapshot input', () => {
  it('reads CSV with a header, quoted ids and CRLF', async () => {
    const csv = 'userId,BTC,ETH\r\nalice,1,2\r\n"x,""y""",0,340282366920938463463374607431768211455\r\n'
    const s = await readSnapshot(Readable.from([csv]), 'csv')
    expect(s.currencies.map((c) => c.symbol)).toEqual(['BTC', 'ETH'])
    expect(s.entries).toEqual([
      { userId: 'alice', balances: [1n, 2n] },
      { userId: 'x,"y"', balances: [0n, (1n << 128n) - 1n] },
    ])
  })

  it('reports every bad row with its line number', () => {
    const csv = [
      'userId,BTC',
      'ok,1',
      'neg,-1',
      'frac,1.5',
      'big,340282366920938463463374607431768211456',
      ',1',
      'ok,2',
      'cols,1,2',
      'lead,01',
    ].join('\n')
    const r = refusal(() => readSnapshotText(csv, 'csv'))
    expect(r.errorCount).toBe(7)
    expect(r.errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9])
    expect(r.errors[0]!.reason).toMatch(/negative/)
    expect(r.errors[2]!.reason).toMatch(/too large/)
    expect(r.errors[4]!.reason).toMatch(/duplicate/)
  })

  it('lists the first 100 bad rows and counts them all', () => {
    const csv = ['userId,BTC', ...Array.from({ length: 250 }, (_, i) => `u${i},-1`)].join('\n')
    const r = refusal(() => readSnapshotText(csv, 'csv'))
    expect(r.errorCount).toBe(250)
    expect(r.errors).toHaveLength(100)
  })

  it('reads NDJSON and refuses unknown currencies and bad JSON', () => {
    const cur = [
      { symbol: 'BTC', decimals: 8 },
      { symbol: 'ETH', decimals: 18 },
    ]
    const ok = readSnapshotText(
      '{"userId":"a","balances":{"BTC":"5"}}\n{"userId":"b","balances":{"ETH":7}}\n',
      'ndjson',
      cur,
    )
    expect(ok.entries).toEqual([
      { userId: 'a', balances: [5n, 0n] },
      { userId: 'b', balances: [0n, 7n] },
    ])
    const r = refusal(() =>
      readSnapshotText(
        '{"userId":"a","balances":{"DOGE":"5"}}\nnot json\n{"userId":"c","balances":{"BTC":1.5}}',
        'ndjson',
        cur,
      ),
    )
    expect(r.errors.map((e) => e.line)).toEqual([1, 2, 3])
  })

  it('refuses an empty input', () => {
    expect(refusal(() => readSnapshotText('', 'csv')).errorCount).toBe(1)
  })

  it('splits CSV rows as RFC 4180 says (csv-parse): empty cells, quoted commas, broken quotes refused', () => {
    const ok = readSnapshotText('userId,A,B\n"a,b",1,0\nc,0,2\n', 'csv')
    expect(ok.entries[0]).toEqual({ userId: 'a,b', balances: [1n, 0n] })
    // Line 2 opens a quote that line 3 closes, followed by a stray b: one broken record (2-3).
    const r = refusal(() => readSnapshotText('userId,A\n"a,1\na"b,1\n"c"d,1\nok,1', 'csv'))
    expect(r.errors.map((e) => [e.line, e.reason])).toEqual([
      [2, 'broken quoting'],
      [4, 'broken quoting'],
    ])
    // A quote still open when the input ends: its line is refused, the lines it held are read again.
    const open = refusal(() => readSnapshotText('userId,A\n"a,1\nok,1\nfine,2', 'csv'))
    expect(open.errors).toEqual([{ line: 2, reason: 'broken quoting (a quoted field is never closed)' }])
    expect(open.errorCount).toBe(1)
    expect(refusal(() => readSnapshotText('userId,A\nc,,2', 'csv')).errors[0]?.reason).toMatch(/columns/)
  })

  it('reads a quoted field spanning lines (RFC 4180), in text and in arbitrary chunks', async () => {
    const csv = 'userId,"BTC\r\ncoin",ETH\r\n"multi\nline\nid",1,2\r\nbob,3,4\r\n"x, ""y""",5,6\r\n'
    const want = [
      { userId: 'multi\nline\nid', balances: [1n, 2n] },
      { userId: 'bob', balances: [3n, 4n] },
      { userId: 'x, "y"', balances: [5n, 6n] },
    ]
    const text = readSnapshotText(csv, 'csv')
    expect(text.currencies.map((c) => c.symbol)).toEqual(['BTC\ncoin', 'ETH'])
    expect(text.entries).toEqual(want)
    const bytes = Buffer.from(csv)
    const pieces = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1))
    expect((await readSnapshot(Readable.from(pieces), 'csv')).entries).toEqual(want)
  })

  it('the one-line splitter agrees with csv-parse (the reference) on every line (property)', () => {
    const line = fc
      .array(fc.constantFrom('a', 'b', ',', '"', ' ', 'é'), { minLength: 1, maxLength: 14 })
      .map((cs) => cs.join(''))
    fc.assert(
      fc.property(line, (text) => {
        const quick = splitCsvLine(text)
        let reference: string[][] | null
        try {
          reference = parseCsv(text, { relax_column_count: true }) as string[][]
        } catch {
          reference = null
        }
        // What the splitter splits, csv-parse splits the same; what it refuses, csv-parse refuses.
        if (quick !== null) expect([quick]).toEqual(reference)
        else expect(reference).toBeNull()
      }),
      { numRuns: 5000 },
    )
  })

  it('a quote left open is refused after MAX_RECORD_LINES lines and the lines it held are read as rows', () => {
    const rows = Array.from({ length: 20 }, (_, i) => `u${i},1`)
    const r = refusal(() => readSnapshotText(['userId,A', '"open,1', ...rows].join('\n'), 'csv'))
    expect(r.errorCount).toBe(1)
    expect(r.errors[0]).toMatchObject({ line: 2, reason: expect.stringMatching(/still open after 16 lines/) })
  })
})
