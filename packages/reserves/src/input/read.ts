import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { LiabilityEntry } from '../tree/build.ts'
import type { Currency } from '../verifier/proof.ts'
import { type InputFormat, RowReader } from './rows.ts'

/** Streams a snapshot from a byte stream, line by line; see {@link RowReader} for the checks. */
export async function readSnapshot(
  input: Readable,
  format: InputFormat,
  currencies: Currency[] | null = null,
): Promise<{ currencies: Currency[]; entries: LiabilityEntry[] }> {
  const reader = new RowReader(format, currencies)
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  for await (const line of lines) reader.push(line)
  return reader.finish()
}

/** Streams a snapshot file; the format comes from its extension (.ndjson/.jsonl, else CSV). */
export function readSnapshotFile(path: string, currencies: Currency[] | null = null) {
  const format: InputFormat = /\.(ndjson|jsonl)$/i.test(path) ? 'ndjson' : 'csv'
  return readSnapshot(createReadStream(path), format, currencies)
}

/** Parses a snapshot held in memory. */
export function readSnapshotText(text: string, format: InputFormat, currencies: Currency[] | null = null) {
  const reader = new RowReader(format, currencies)
  for (const line of text.split('\n')) reader.push(line)
  return reader.finish()
}
