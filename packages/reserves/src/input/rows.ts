import { CairnError } from '@cairn/utils'
import { CsvError, parse as parseCsv } from 'csv-parse/sync'
import { ReservesErrorCode } from '../errors.ts'
import type { LiabilityEntry } from '../tree/build.ts'
import { balanceOf, ColumnsBuilder, idSpan, type UserColumns, type UserIndex } from '../tree/columns.ts'
import { MAX_USER_ID_BYTES, parseAmount } from '../verifier/index.ts'
import type { Currency } from '../verifier/proof.ts'
import { splitCsvLine } from './csv-line.ts'

/** The input formats of a snapshot. */
export type InputFormat = 'csv' | 'ndjson'

/** One refused row: its 1-based line number and why. */
export interface RowError {
  line: number
  reason: string
}

/** How many bad rows a refusal lists (the count covers all of them). */
export const MAX_REPORTED_ERRORS = 100

/**
 * The most lines one CSV record may span (a quoted field holding line breaks, RFC 4180). A quote
 * left open is refused after this many lines instead of swallowing the rest of the file, and the
 * lines it held are read again as rows of their own.
 */
export const MAX_RECORD_LINES = 16

/**
 * One CSV record's cells (RFC 4180), `'open'` while a quoted field is still open, null when the
 * quoting is broken: the one-line splitter when it can, else csv-parse (multi-line records, and
 * the verdict on broken quoting).
 */
function csvCells(text: string): string[] | 'open' | null {
  const quick = text.includes('\n') ? null : splitCsvLine(text)
  if (quick) return quick
  try {
    const records = parseCsv(text, { relax_column_count: true }) as string[][]
    return records.length === 1 ? (records[0] as string[]) : null
  } catch (err) {
    if (err instanceof CsvError && err.code === 'CSV_QUOTE_NOT_CLOSED') return 'open'
    if (err instanceof CsvError) return null
    throw err
  }
}

const utf8 = new TextEncoder()
const CANONICAL_SMALL = /^(0|[1-9][0-9]{0,14})$/

/** A snapshot read into flat columns (for builds of millions of users). */
export interface ColumnSnapshot {
  currencies: Currency[]
  columns: UserColumns
  /** Finds a user by id (null when not asked for: its hash set is then freed). */
  index: UserIndex | null
}

/**
 * Reads a snapshot line by line, checking each row as it comes: CSV (`userId,SYM1,SYM2…` with a
 * header naming the currencies) or NDJSON (`{"userId": "...", "balances": {"SYM": "amount"}}`,
 * currencies given up front). Every bad row is recorded (the first {@link MAX_REPORTED_ERRORS}
 * with their line numbers); {@link finish} refuses the whole snapshot if there was any. Rows are
 * kept as flat columns (ids as UTF-8 bytes, balances as u128 slots), duplicates found on the id
 * bytes; {@link pushCsvBytes} takes the usual CSV row without decoding it to a string.
 */
export class RowReader {
  private lineNo = 0
  private currencies: Currency[] | null
  private rows: ColumnsBuilder | null = null
  private readonly idBuf = new Uint8Array(4 * MAX_USER_ID_BYTES + 4)
  private readonly errors: RowError[] = []
  private errorCount = 0
  /** A CSV record whose quoted field is still open: its first line's number and its lines so far. */
  private pending: { line: number; lines: string[] } | null = null

  constructor(
    private readonly format: InputFormat,
    /** Required for NDJSON; for CSV the header names them (decimals from here when given, else 0). */
    private readonly given: Currency[] | null = null,
  ) {
    this.currencies = format === 'ndjson' ? given : null
    if (format === 'ndjson' && !given)
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, 'NDJSON input needs its currency list', {
        fault: 'caller',
        hint: 'pass the currencies (symbols in order) with the NDJSON input',
      })
  }

  private bad(reason: string, line = this.pending?.line ?? this.lineNo): undefined {
    this.errorCount++
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push({ line, reason })
    return undefined
  }

  private builder(): ColumnsBuilder {
    if (!this.rows) this.rows = new ColumnsBuilder(Math.max(1, (this.currencies as Currency[]).length))
    return this.rows
  }

  /** Feeds one line (without its newline). */
  push(raw: string): undefined {
    this.lineNo++
    this.line(raw.endsWith('\r') ? raw.slice(0, -1) : raw)
  }

  /**
   * Feeds one CSV row as bytes `buf[start, end)` (without its newline). The common row — ASCII
   * id without quotes, every amount 1 to 15 plain digits — is taken without building strings or
   * bigints; anything else goes through {@link push}'s checks, so the outcome is the same.
   */
  pushCsvBytes(buf: Uint8Array, start: number, end: number): undefined {
    if (this.format !== 'csv' || this.currencies === null || this.pending) return this.pushBytes(buf, start, end)
    this.lineNo++
    let e = end
    if (e > start && buf[e - 1] === 0x0d) e--
    const k = this.currencies.length
    const rows = this.builder()
    // The id: up to the first comma, printable ASCII without quotes.
    let i = start
    while (i < e) {
      const b = buf[i] as number
      if (b === 0x2c) break
      if (b < 0x20 || b > 0x7e || b === 0x22) return this.slowBytes(buf, start, e)
      i++
    }
    const idEnd = i
    if (idEnd === start || idEnd - start > MAX_USER_ID_BYTES || i === e) return this.slowBytes(buf, start, e)
    for (let c = 0; c < k; c++) {
      if (i >= e || buf[i] !== 0x2c) return this.slowBytes(buf, start, e)
      i++
      const s = i
      let v = 0
      while (i < e && buf[i] !== 0x2c) {
        const d = (buf[i] as number) - 0x30
        if (d < 0 || d > 9) return this.slowBytes(buf, start, e)
        v = v * 10 + d
        i++
      }
      const n = i - s
      if (n === 0 || n > 15 || (n > 1 && buf[s] === 0x30)) return this.slowBytes(buf, start, e)
      rows.setSmall(c, v)
    }
    if (i !== e) return this.slowBytes(buf, start, e)
    if (!rows.commit(buf, start, idEnd)) {
      const id = Buffer.from(buf.buffer, buf.byteOffset + start, idEnd - start).toString('latin1')
      return this.bad(`duplicate user id ${JSON.stringify(id)}`)
    }
  }

  private slowBytes(buf: Uint8Array, start: number, end: number): undefined {
    return this.pieces(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8'))
  }

  /** A line whose line number is counted already; a lone CR inside it starts a new line (as readline). */
  private pieces(text: string): undefined {
    const parts = text.split('\r')
    this.line(parts[0] as string)
    for (let i = 1; i < parts.length; i++) {
      this.lineNo++
      this.line(parts[i] as string)
    }
  }

  /** Feeds one line of bytes (without its newline): CSV rows on the fast path, anything else decoded. */
  pushBytes(buf: Uint8Array, start: number, end: number): undefined {
    if (this.format === 'csv' && this.currencies !== null && !this.pending) return this.pushCsvBytes(buf, start, end)
    this.lineNo++
    let e = end
    if (e > start && buf[e - 1] === 0x0d) e--
    return this.pieces(Buffer.from(buf.buffer, buf.byteOffset + start, e - start).toString('utf8'))
  }

  private line(line: string): undefined {
    if (this.format === 'csv') return this.csvLine(line)
    if (line.trim() === '') return
    this.jsonRow(line)
  }

  /**
   * One CSV line: a record of its own, or a piece of a record whose quoted field spans lines
   * (csv-parse says the quote is still open); the record is read once its quote closes.
   */
  private csvLine(line: string): undefined {
    if (!this.pending) {
      if (line.trim() === '') return
      // The common row (no quotes) needs no CSV parser: commas split it.
      if (!line.includes('"')) return this.csvRecord(line.split(','))
      const cells = csvCells(this.currencies === null ? line.replace(/^\uFEFF/, '') : line)
      if (cells !== 'open') return this.csvRecord(cells)
      this.pending = { line: this.lineNo, lines: [line] }
      return
    }
    const pending = this.pending
    pending.lines.push(line)
    const cells = csvCells(pending.lines.join('\n'))
    if (cells !== 'open') {
      this.csvRecord(cells)
      this.pending = null
      return
    }
    if (pending.lines.length < MAX_RECORD_LINES) return
    // A quote left open: refuse its first line, read the lines after it as rows again.
    this.bad(`broken quoting (a quoted field is still open after ${MAX_RECORD_LINES} lines)`)
    this.readAgain(pending)
  }

  /** Gives up an open quoted record: its lines after the first are read as rows again. */
  private readAgain(pending: { line: number; lines: string[] }): void {
    this.pending = null
    const now = this.lineNo
    for (const [i, again] of pending.lines.slice(1).entries()) {
      this.lineNo = pending.line + 1 + i
      this.csvLine(again)
    }
    this.lineNo = now
  }

  /** The header or a row, from its cells (null: broken quoting). */
  private csvRecord(cells: string[] | null): undefined {
    if (this.currencies === null) return this.header(cells)
    const cur = this.currencies
    if (!cells) return this.bad('broken quoting')
    if (cells.length !== cur.length + 1)
      return this.bad(`${cells.length} columns where the header has ${cur.length + 1}`)
    this.add(cells[0], cells.slice(1))
  }

  private header(cells: string[] | null): undefined {
    if (!cells || cells.length < 2) {
      this.currencies = []
      return this.bad('the header must be userId followed by one column per currency')
    }
    const decimals = new Map(this.given?.map((c) => [c.symbol, c.decimals]))
    this.currencies = cells.slice(1).map((s) => ({ symbol: s.trim(), decimals: decimals.get(s.trim()) ?? 0 }))
  }

  private add(userId: unknown, amounts: (string | undefined)[]): undefined {
    const cur = this.currencies as Currency[]
    if (typeof userId !== 'string' || userId.length === 0) return this.bad('empty user id')
    const id = userId.length > MAX_USER_ID_BYTES ? null : utf8.encodeInto(userId, this.idBuf)
    if (!id || id.written > MAX_USER_ID_BYTES) return this.bad(`user id longer than ${MAX_USER_ID_BYTES} bytes`)
    const rows = this.builder()
    for (const [i, a] of amounts.entries()) {
      const sym = cur[i]?.symbol
      if (a === undefined) return this.bad(`missing ${sym} balance`)
      if (a.length <= 15 && CANONICAL_SMALL.test(a)) {
        rows.setSmall(i, Number(a))
        continue
      }
      const v = parseAmount(a)
      if (v === null) {
        if (/^-/.test(a)) return this.bad(`negative ${sym} balance ${a}`)
        if (/^[0-9]+$/.test(a)) return this.bad(`${sym} balance ${a} is too large (≥ 2^128) or has leading zeros`)
        return this.bad(`${sym} balance ${JSON.stringify(a)} is not a non-negative integer in the smallest unit`)
      }
      rows.setBig(i, v)
    }
    if (!rows.commit(this.idBuf, 0, id.written)) return this.bad(`duplicate user id ${JSON.stringify(userId)}`)
  }

  private jsonRow(line: string): undefined {
    let v: unknown
    try {
      v = JSON.parse(line)
    } catch {
      return this.bad('not valid JSON')
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return this.bad('not a JSON object')
    const o = v as { userId?: unknown; balances?: unknown }
    if (typeof o.balances !== 'object' || o.balances === null || Array.isArray(o.balances))
      return this.bad('balances must be an object keyed by currency symbol')
    const bal = o.balances as Record<string, unknown>
    const cur = this.currencies as Currency[]
    const unknown = Object.keys(bal).filter((s) => !cur.some((c) => c.symbol === s))
    if (unknown.length > 0) return this.bad(`unknown currency ${unknown.join(', ')}`)
    const amounts = cur.map((c) => {
      const a = bal[c.symbol]
      if (a === undefined) return '0'
      if (typeof a === 'number' && Number.isSafeInteger(a)) return String(a)
      return typeof a === 'string' ? a : JSON.stringify(a)
    })
    this.add(o.userId, amounts)
  }

  /** The snapshot as flat columns; throws RESERVES_INPUT_INVALID listing bad rows. */
  finishColumns(withIndex = true): ColumnSnapshot {
    const currencies = this.check()
    const rows = this.rows ?? new ColumnsBuilder(Math.max(1, currencies.length))
    this.rows = null
    const columns = rows.finish()
    return { currencies, columns, index: withIndex ? rows.index() : null }
  }

  /** The snapshot's entries and currencies; throws RESERVES_INPUT_INVALID listing bad rows. */
  finish(): { currencies: Currency[]; entries: LiabilityEntry[] } {
    const { currencies, columns } = this.finishColumns(false)
    const entries: LiabilityEntry[] = new Array(columns.count)
    for (let u = 0; u < columns.count; u++) {
      const [page, s, e] = idSpan(columns, u)
      const userId = Buffer.from(page.ids.buffer, page.ids.byteOffset + s, e - s).toString('utf8')
      const balances: bigint[] = new Array(currencies.length)
      for (let c = 0; c < currencies.length; c++) balances[c] = balanceOf(columns, u, c)
      entries[u] = { userId, balances }
    }
    return { currencies, entries }
  }

  private check(): Currency[] {
    if (this.pending) {
      // The input ended inside a quoted field.
      this.bad('broken quoting (a quoted field is never closed)')
      this.readAgain(this.pending)
      if (this.pending) return this.check()
    }
    if (this.currencies === null) {
      this.lineNo = 1
      this.bad('the input is empty (a CSV needs a header)')
    }
    if (this.errorCount > 0)
      throw new CairnError(
        ReservesErrorCode.INPUT_INVALID,
        `the snapshot has ${this.errorCount} bad row(s): ${this.errors
          .slice(0, 5)
          .map((e) => `line ${e.line}: ${e.reason}`)
          .join('; ')}${this.errorCount > 5 ? `; and ${this.errorCount - 5} more` : ''}`,
        {
          fault: 'caller',
          meta: { errorCount: this.errorCount, errors: this.errors },
          hint: 'fix every listed row; nothing was stored',
        },
      )
    return this.currencies as Currency[]
  }
}
