import { Readable } from 'node:stream'
import { isCairnError } from '@cairn/utils'
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

  it('splits CSV lines', () => {
    expect(splitCsvLine('a,b,,c')).toEqual(['a', 'b', '', 'c'])
    expect(splitCsvLine('"a,b",c')).toEqual(['a,b', 'c'])
    expect(splitCsvLine('"a,c')).toBeNull()
    expect(splitCsvLine('a"b,c')).toBeNull()
  })
})
