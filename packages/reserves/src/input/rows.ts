import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'
import type { LiabilityEntry } from '../tree/build.ts'
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

const utf8 = new TextEncoder()

/**
 * Reads a snapshot line by line, checking each row as it comes: CSV (`userId,SYM1,SYM2…` with a
 * header naming the currencies) or NDJSON (`{"userId": "...", "balances": {"SYM": "amount"}}`,
 * currencies given up front). Every bad row is recorded (the first {@link MAX_REPORTED_ERRORS}
 * with their line numbers); {@link finish} refuses the whole snapshot if there was any.
 */
export class RowReader {
  private lineNo = 0
  private currencies: Currency[] | null
  private readonly entries: LiabilityEntry[] = []
  private readonly seen = new Set<string>()
  private readonly errors: RowError[] = []
  private errorCount = 0

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

  private bad(reason: string): undefined {
    this.errorCount++
    if (this.errors.length < MAX_REPORTED_ERRORS) this.errors.push({ line: this.lineNo, reason })
    return undefined
  }

  /** Feeds one line (without its newline). */
  push(raw: string): undefined {
    this.lineNo++
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (this.format === 'csv' && this.currencies === null) return this.header(line)
    if (line.trim() === '') return
    if (this.format === 'csv') this.csvRow(line)
    else this.jsonRow(line)
  }

  private header(line: string): undefined {
    const cells = splitCsvLine(line.replace(/^\uFEFF/, ''))
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
    if (utf8.encode(userId).length > MAX_USER_ID_BYTES)
      return this.bad(`user id longer than ${MAX_USER_ID_BYTES} bytes`)
    const balances: bigint[] = []
    for (const [i, a] of amounts.entries()) {
      const sym = cur[i]?.symbol
      if (a === undefined) return this.bad(`missing ${sym} balance`)
      const v = parseAmount(a)
      if (v === null) {
        if (/^-/.test(a)) return this.bad(`negative ${sym} balance ${a}`)
        if (/^[0-9]+$/.test(a)) return this.bad(`${sym} balance ${a} is too large (≥ 2^128) or has leading zeros`)
        return this.bad(`${sym} balance ${JSON.stringify(a)} is not a non-negative integer in the smallest unit`)
      }
      balances.push(v)
    }
    if (this.seen.has(userId)) return this.bad(`duplicate user id ${JSON.stringify(userId)}`)
    this.seen.add(userId)
    this.entries.push({ userId, balances })
  }

  private csvRow(line: string): undefined {
    const cells = splitCsvLine(line)
    const cur = this.currencies as Currency[]
    if (!cells) return this.bad('broken quoting')
    if (cells.length !== cur.length + 1)
      return this.bad(`${cells.length} columns where the header has ${cur.length + 1}`)
    this.add(cells[0], cells.slice(1))
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

  /** The snapshot's entries and currencies; throws RESERVES_INPUT_INVALID listing bad rows. */
  finish(): { currencies: Currency[]; entries: LiabilityEntry[] } {
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
    return { currencies: this.currencies as Currency[], entries: this.entries }
  }
}
