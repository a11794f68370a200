import { createRequire } from 'node:module'
import { CairnError } from '@cairn/utils'
import { ConfigErrorCode } from '../config/errors.ts'

type CronParser = typeof import('cron-parser').CronExpressionParser

/**
 * cron-parser, loaded on first use: it brings luxon, ~0.2 s of every `cairn` start on this
 * machine (measured) that only a config with `backup.cron` needs.
 */
let parser: CronParser | undefined
function cronParser(): CronParser {
  parser ??= (createRequire(import.meta.url)('cron-parser') as typeof import('cron-parser')).CronExpressionParser
  return parser
}

/**
 * A 5-field cron expression (minute hour day-of-month month day-of-week, UTC) as crontab(5):
 * `*`, lists `a,b`, ranges `a-b`, steps `*\/n` and `a-b/n`; day-of-week 0–7 (0 and 7 are Sunday).
 * When both day fields are restricted, a day matches either (as cron does). Parsing and the next
 * time come from cron-parser (the maintained library of the field); Cairn only insists on five
 * fields (cron-parser also takes seconds) and names the field at fault.
 */
export interface CronSchedule {
  readonly source: string
  /** The first matching minute strictly after `from`. */
  nextAfter(from: Date): Date
}

const FIELDS = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const

export function parseCron(source: string): CronSchedule {
  const parts = source.trim().split(/\s+/)
  if (parts.length !== 5) throw bad(source, `expected 5 fields (minute hour day month weekday), got ${parts.length}`)
  const pattern = parts.join(' ')
  const next = (from: Date) => cronParser().parse(pattern, { tz: 'UTC', currentDate: from }).next().toDate()
  try {
    next(new Date(0))
  } catch (err) {
    throw refusal(source, parts, err)
  }
  return {
    source,
    nextAfter(from: Date): Date {
      try {
        return next(from)
      } catch (err) {
        throw bad(source, 'it never matches', err)
      }
    },
  }
}

/** cron-parser's refusal, naming the field at fault: each field is tried alone, the others `*`. */
function refusal(source: string, parts: string[], err: unknown): CairnError {
  for (let i = 0; i < parts.length; i++) {
    const alone = parts.map((p, j) => (j === i ? p : '*')).join(' ')
    try {
      cronParser().parse(alone, { tz: 'UTC' })
    } catch (own) {
      return bad(source, `${FIELDS[i]} "${parts[i]}": ${(own as Error).message}`, err)
    }
  }
  return bad(source, (err as Error).message, err)
}

function bad(source: string, why: string, cause?: unknown): CairnError {
  return new CairnError(ConfigErrorCode.CRON_INVALID, `backup.cron "${source}": ${why}`, {
    fault: 'caller',
    ...(cause === undefined ? {} : { cause }),
    hint: 'use five fields in UTC, e.g. "30 3 * * *" for 03:30 every day',
  })
}
