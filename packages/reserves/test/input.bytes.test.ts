// The byte-level CSV fast path gives what the string path gives: same rows, same refusals.
import { Readable } from 'node:stream'
import { isCairnError } from '@cairn/utils'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readSnapshot, readSnapshotColumns, readSnapshotText } from '../src/input/read.ts'

type Outcome = { ok: unknown } | { refused: unknown }

async function outcome(fn: () => Promise<unknown> | unknown): Promise<Outcome> {
  try {
    return { ok: await fn() }
  } catch (err) {
    if (isCairnError(err, 'RESERVES_INPUT_INVALID')) return { refused: err.meta }
    throw err
  }
}

const amount = fc.oneof(
  fc.nat({ max: 1000 }).map(String),
  fc.bigInt({ min: 0n, max: 999_999_999_999_999n }).map(String),
  fc.bigInt({ min: 0n, max: (1n << 128n) + 5n }).map(String),
  fc.constantFrom('', '-1', '01', '1.5', '1e3', ' 5', '0', '000', '9999999999999999', 'x'),
)
const id = fc.oneof(
  fc.constantFrom('alice', 'bob', 'carol@example.com', 'a b', ''),
  fc.string({ unit: 'grapheme', minLength: 0, maxLength: 6 }),
  fc.string({ minLength: 1, maxLength: 10 }),
)
const quote = (s: string) => (/[",]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s)
const row = (k: number) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.tuple(id, fc.array(amount, { minLength: k, maxLength: k })) },
    { weight: 1, arbitrary: fc.tuple(id, fc.array(amount, { minLength: 0, maxLength: k + 2 })) },
  )
const csv = fc.integer({ min: 1, max: 3 }).chain((k) =>
  fc
    .tuple(
      fc.array(fc.oneof({ weight: 10, arbitrary: row(k) }, { weight: 1, arbitrary: fc.constantFrom('', '  ') }), {
        maxLength: 30,
      }),
      fc.boolean(),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
    )
    .map(([rows, crlf, cuts]) => {
      const header = ['userId', ...Array.from({ length: k }, (_, i) => `C${i}`)].join(',')
      const lines = rows.map((r) =>
        typeof r === 'string' ? r : [quote(r[0]), ...r[1]].join(',').replace(/[\r\n]/g, ''),
      )
      return { text: [header, ...lines].join(crlf ? '\r\n' : '\n'), cuts }
    }),
)

/** Splits the bytes at arbitrary places (inside lines and inside UTF-8 characters). */
function chunks(text: string, cuts: number[]): Buffer[] {
  const bytes = Buffer.from(text)
  const out: Buffer[] = []
  let at = 0
  for (let i = 0; at < bytes.length; i++) {
    const n = cuts[i % cuts.length] as number
    out.push(bytes.subarray(at, at + n))
    at += n
  }
  return out
}

describe('CSV byte fast path', () => {
  it('accepts and refuses exactly what the string reader does, whatever the chunking', async () => {
    await fc.assert(
      fc.asyncProperty(csv, async ({ text, cuts }) => {
        const viaText = await outcome(() => readSnapshotText(text, 'csv'))
        const viaBytes = await outcome(() => readSnapshot(Readable.from(chunks(text, cuts)), 'csv'))
        expect(viaBytes).toEqual(viaText)
      }),
      { numRuns: 300 },
    )
  })

  it('reads columns with a working id index and totals', async () => {
    const text = 'userId,BTC,ETH\nalice,1,340282366920938463463374607431768211455\nbob,2,0\n"c,d",3,4\n'
    const s = await readSnapshotColumns(Readable.from([text]), 'csv')
    expect(s.columns.count).toBe(3)
    expect(s.columns.totals).toEqual([6n, (1n << 128n) - 1n + 4n])
    expect(s.index?.get('bob')).toBe(1)
    expect(s.index?.get('c,d')).toBe(2)
    expect(s.index?.get('carol')).toBeUndefined()
  })

  it('finds duplicates among many ids (hash set growth) and reports their lines', async () => {
    const n = 20_000
    const lines = ['userId,X', ...Array.from({ length: n }, (_, i) => `user-${i},${i}`), 'user-777,1', 'user-19999,2']
    const r = await outcome(() => readSnapshot(Readable.from([lines.join('\n')]), 'csv'))
    expect(r).toEqual({
      refused: {
        errorCount: 2,
        errors: [
          { line: n + 2, reason: 'duplicate user id "user-777"' },
          { line: n + 3, reason: 'duplicate user id "user-19999"' },
        ],
      },
    })
  })
})
