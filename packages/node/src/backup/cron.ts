import { CairnError } from '@cairn/utils'

/**
 * A 5-field cron expression (minute hour day-of-month month day-of-week, UTC) as crontab(5):
 * `*`, lists `a,b`, ranges `a-b`, steps `*\/n` and `a-b/n`; day-of-week 0–7 (0 and 7 are Sunday).
 * When both day fields are restricted, a day matches either (as cron does).
 */
export interface CronSchedule {
  readonly source: string
  /** The first matching minute strictly after `from`. */
  nextAfter(from: Date): Date
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const

export function parseCron(source: string): CronSchedule {
  const parts = source.trim().split(/\s+/)
  if (parts.length !== 5) throw bad(source, `expected 5 fields (minute hour day month weekday), got ${parts.length}`)
  const sets = parts.map((p, i) => parseField(source, p, FIELDS[i] as (typeof FIELDS)[number]))
  const [minutes, hours, days, months, weekdays] = sets as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ]
  if (weekdays.has(7)) weekdays.add(0)
  const dayRestricted = parts[2] !== '*'
  const weekdayRestricted = parts[4] !== '*'
  const dayMatches = (d: Date) => {
    const dom = days.has(d.getUTCDate())
    const dow = weekdays.has(d.getUTCDay())
    if (dayRestricted && weekdayRestricted) return dom || dow
    return dom && dow
  }
  return {
    source,
    nextAfter(from: Date): Date {
      const t = new Date(Math.floor(from.getTime() / 60_000) * 60_000 + 60_000)
      // Five years of minutes is an upper bound for any satisfiable expression (Feb 29 included).
      for (let i = 0; i < 5 * 366 * 24 * 60; i++) {
        if (!months.has(t.getUTCMonth() + 1)) {
          t.setUTCMonth(t.getUTCMonth() + 1, 1)
          t.setUTCHours(0, 0, 0, 0)
          continue
        }
        if (!dayMatches(t)) {
          t.setUTCDate(t.getUTCDate() + 1)
          t.setUTCHours(0, 0, 0, 0)
          continue
        }
        if (!hours.has(t.getUTCHours())) {
          t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0)
          continue
        }
        if (!minutes.has(t.getUTCMinutes())) {
          t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0)
          continue
        }
        return t
      }
      throw bad(source, 'it never matches')
    },
  }
}

function parseField(source: string, field: string, spec: { name: string; min: number; max: number }): Set<number> {
  const out = new Set<number>()
  for (const item of field.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item)
    if (!m) throw bad(source, `${spec.name} "${item}" is not a number, range, list or step`)
    const step = m[4] === undefined ? 1 : Number(m[4])
    const lo = m[1] === '*' ? spec.min : Number(m[2])
    const hi = m[1] === '*' ? spec.max : m[3] === undefined ? (m[4] === undefined ? lo : spec.max) : Number(m[3])
    if (step < 1 || lo < spec.min || hi > spec.max || lo > hi) {
      throw bad(source, `${spec.name} "${item}" is outside ${spec.min}-${spec.max}`)
    }
    for (let v = lo; v <= hi; v += step) out.add(v)
  }
  return out
}

function bad(source: string, why: string): CairnError {
  return new CairnError('CONFIG_CRON_INVALID', `backup.cron "${source}": ${why}`, {
    fault: 'caller',
    hint: 'use five fields in UTC, e.g. "30 3 * * *" for 03:30 every day',
  })
}
