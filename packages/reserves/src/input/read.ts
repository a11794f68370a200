import { createReadStream } from 'node:fs'
import type { Readable } from 'node:stream'
import type { LiabilityEntry } from '../tree/build.ts'
import type { Currency } from '../verifier/proof.ts'
import { type ColumnSnapshot, type InputFormat, RowReader } from './rows.ts'

/**
 * Feeds a byte stream to a row reader line by line (LF or CRLF, a lone CR also ends a line, as
 * readline does) without decoding whole chunks to strings: CSV rows go to the byte fast path.
 */
async function feed(input: Readable, reader: RowReader): Promise<void> {
  let rest: Buffer | null = null
  for await (const chunk of input) {
    const bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer)
    const buf: Buffer = rest ? Buffer.concat([rest, bytes]) : bytes
    let start = 0
    for (;;) {
      const nl = buf.indexOf(10, start)
      if (nl < 0) break
      reader.pushBytes(buf, start, nl)
      start = nl + 1
    }
    rest = start < buf.length ? Buffer.from(buf.subarray(start)) : null
  }
  if (rest && rest.length > 0) reader.pushBytes(rest, 0, rest.length)
}

/** Streams a snapshot from a byte stream, line by line; see {@link RowReader} for the checks. */
export async function readSnapshot(
  input: Readable,
  format: InputFormat,
  currencies: Currency[] | null = null,
): Promise<{ currencies: Currency[]; entries: LiabilityEntry[] }> {
  const reader = new RowReader(format, currencies)
  await feed(input, reader)
  return reader.finish()
}

/** Streams a snapshot into flat columns (what the builder of large trees takes). */
export async function readSnapshotColumns(
  input: Readable,
  format: InputFormat,
  currencies: Currency[] | null = null,
  withIndex = true,
): Promise<ColumnSnapshot> {
  const reader = new RowReader(format, currencies)
  await feed(input, reader)
  return reader.finishColumns(withIndex)
}

/** The format of a snapshot file from its extension (.ndjson/.jsonl, else CSV). */
export function formatOf(path: string): InputFormat {
  return /\.(ndjson|jsonl)$/i.test(path) ? 'ndjson' : 'csv'
}

/** Streams a snapshot file; the format comes from its extension (.ndjson/.jsonl, else CSV). */
export function readSnapshotFile(path: string, currencies: Currency[] | null = null) {
  return readSnapshot(createReadStream(path, { highWaterMark: 1 << 20 }), formatOf(path), currencies)
}

/** Parses a snapshot held in memory. */
export function readSnapshotText(text: string, format: InputFormat, currencies: Currency[] | null = null) {
  const reader = new RowReader(format, currencies)
  for (const line of text.split('\n')) reader.push(line)
  return reader.finish()
}
