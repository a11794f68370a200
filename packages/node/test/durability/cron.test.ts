import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseCron } from '../../src/backup/cron.ts'
import { loadConfig } from '../../src/config/load.ts'

const at = (iso: string) => new Date(iso)

describe('backup cron schedules', () => {
  it('finds the next matching minute (UTC)', () => {
    expect(parseCron('30 3 * * *').nextAfter(at('2026-11-22T03:29:59Z')).toISOString()).toBe('2026-11-22T03:30:00.000Z')
    expect(parseCron('30 3 * * *').nextAfter(at('2026-11-22T03:30:00Z')).toISOString()).toBe('2026-11-23T03:30:00.000Z')
    expect(parseCron('*/15 * * * *').nextAfter(at('2026-11-22T10:07:00Z')).toISOString()).toBe(
      '2026-11-22T10:15:00.000Z',
    )
    expect(parseCron('0 0 1 * *').nextAfter(at('2026-12-15T00:00:00Z')).toISOString()).toBe('2027-01-01T00:00:00.000Z')
    // 2026-11-22 is a Sunday: weekday 7 and 0 both mean Sunday
    expect(parseCron('0 12 * * 7').nextAfter(at('2026-11-21T13:00:00Z')).toISOString()).toBe('2026-11-22T12:00:00.000Z')
    expect(parseCron('0 0 29 2 *').nextAfter(at('2026-03-01T00:00:00Z')).toISOString()).toBe('2028-02-29T00:00:00.000Z')
    // both day fields restricted: either matches (the 1st, or any Monday)
    expect(parseCron('0 0 1 * 1').nextAfter(at('2026-11-22T00:00:00Z')).toISOString()).toBe('2026-11-23T00:00:00.000Z')
  })

  it('the next time matches the expression, is strictly later, and no minute before it matches', () => {
    /** An independent matcher of one field value: *, n, or *\/s (steps count from the field's minimum). */
    const fieldMatches = (f: string, v: number, min = 0) =>
      f === '*' || (f.startsWith('*/') ? (v - min) % Number(f.slice(2)) === 0 : Number(f) === v)
    const matches = (f: string[], d: Date) => {
      const [mi, h, dom, mo, dow] = f as [string, string, string, string, string]
      const day =
        dom !== '*' && dow !== '*'
          ? fieldMatches(dom, d.getUTCDate(), 1) || fieldMatches(dow, d.getUTCDay())
          : fieldMatches(dom, d.getUTCDate(), 1) && fieldMatches(dow, d.getUTCDay())
      return (
        fieldMatches(mi, d.getUTCMinutes()) &&
        fieldMatches(h, d.getUTCHours()) &&
        fieldMatches(mo, d.getUTCMonth() + 1, 1) &&
        day
      )
    }
    const field = (min: number, max: number) =>
      fc.oneof(
        fc.constant('*'),
        fc.integer({ min, max }).map(String),
        fc.integer({ min: 1, max: 9 }).map((s) => `*/${s}`),
      )
    fc.assert(
      fc.property(
        fc.tuple(field(0, 59), field(0, 23), field(1, 28), field(1, 12), field(0, 6)),
        fc.date({ min: at('2020-01-01T00:00:00Z'), max: at('2030-01-01T00:00:00Z'), noInvalidDate: true }),
        (fields, from) => {
          const next = parseCron(fields.join(' ')).nextAfter(from)
          expect(next.getTime()).toBeGreaterThan(from.getTime())
          expect(next.getUTCSeconds()).toBe(0)
          expect(matches(fields, next)).toBe(true)
          for (let t = next.getTime() - 60_000, i = 0; t > from.getTime() && i < 180; t -= 60_000, i++) {
            expect(matches(fields, new Date(t))).toBe(false)
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  it('refuses bad expressions in config, naming the field', () => {
    for (const [cron, why] of [
      ['* * *', /5 fields/],
      ['61 * * * *', /minute "61"/],
      ['* * * 13 *', /month "13"/],
      ['x * * * *', /minute "x"/],
      // never matches: refused when the config loads, not at the first backup
      ['0 0 30 2 *', /day of month/],
    ] as const) {
      expect(() =>
        loadConfig({ flags: { dev: true }, env: { CAIRN_BACKUP_CRON: cron, CAIRN_BACKUP_DIR: '/tmp/b' } }),
      ).toThrow(why)
    }
    expect(() => loadConfig({ flags: { dev: true }, env: { CAIRN_BACKUP_CRON: '0 * * * *' } })).toThrow(
      /backup.dir is required/,
    )
    expect(
      loadConfig({ flags: { dev: true }, env: { CAIRN_BACKUP_CRON: '0 * * * *', CAIRN_BACKUP_DIR: '/tmp/b' } }).backup
        .cron,
    ).toBe('0 * * * *')
  })
})
