// Streamed snapshot uploads are read, checked and sealed on an upload thread (jobs/upload.ts):
// the same entries and the same refusals as reading on the serving thread, sealed parts that open
// back into the entries, and no thread left behind when the body fails.
import { randomBytes } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { readSnapshot } from '@cairn/reserves'
import { isCairnError } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { INPUT_PART, openInput } from '../src/jobs/build-input.ts'
import { readUpload } from '../src/jobs/upload.ts'

const key = { id: 'k1', key: new Uint8Array(randomBytes(32)) }
const opts = { format: 'csv' as const, currencies: null, snapshotId: 'snap-up', minDepth: 0, key }

/** `text` as a body of many small chunks (the thread acknowledges each). */
const body = (text: string, size = 4096) =>
  Readable.from(Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size)))

async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p
  } catch (err) {
    return isCairnError(err) ? { code: err.code, message: err.message, hint: err.hint, meta: err.meta } : err
  }
}

describe('the upload thread', () => {
  it('reads a CSV body into sealed parts that open back into the same entries as an in-thread read', async () => {
    const rows = Array.from({ length: 2 * INPUT_PART + 17 }, (_, i) => `user-${i}@x,${i},${i * 3}`)
    const csv = `userId,BTC,ETH\n${rows.join('\n')}\n`
    const up = await readUpload(body(csv), opts)
    const direct = await readSnapshot(Readable.from([csv]), 'csv')
    expect(up.users).toBe(direct.entries.length)
    expect(up.currencies).toEqual(direct.currencies)
    expect(up.parts).toHaveLength(3)
    expect(openInput(key, 'snap-up', up.parts)).toEqual(direct.entries)
    // Sealed for this snapshot id: another id cannot open them.
    expect(() => openInput(key, 'snap-other', up.parts)).toThrow(/does not decrypt/)
  }, 60_000)

  it('refuses bad rows, a bad header and totals ≥ 2^128 exactly as the serving thread did', async () => {
    const cases = [
      'userId,BTC\nok,1\nneg,-1\nfrac,1.5\nok,2\n',
      'userId,BTC,BTC\nok,1,2\n',
      'userId\nok\n',
      `userId,BTC\na,${(1n << 127n).toString()}\nb,${(1n << 127n).toString()}\n`,
    ]
    for (const csv of cases) {
      const viaThread = await outcome(readUpload(body(csv, 7), opts))
      const inThread = await outcome(
        readSnapshot(Readable.from([csv]), 'csv').then(async (s) => {
          // What the handler did on the serving thread: read, check the currencies, then the totals.
          const { checkCurrencies, checkTotals } = await import('@cairn/reserves')
          checkCurrencies(s.currencies)
          checkTotals(s.entries, s.currencies.length, 0)
          return 'accepted'
        }),
      )
      expect(viaThread).toEqual(inThread)
      expect(viaThread).toHaveProperty('code')
    }
  }, 60_000)

  it('rejects with the body error when the request fails midway', async () => {
    const src = new PassThrough()
    const p = outcome(readUpload(src, opts))
    src.write('userId,BTC\na,1\n')
    await new Promise((r) => setTimeout(r, 50))
    src.destroy(new Error('client went away'))
    const r = await p
    expect((r as Error).message).toBe('client went away')
  }, 60_000)
})
