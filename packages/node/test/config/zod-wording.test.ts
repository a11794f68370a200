// A bad config value is reported as what was expected of that key, never in zod's wording
// ("Invalid input: expected number, received NaN").
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'

const error = (flags: Record<string, unknown>): string => {
  try {
    loadConfig({ flags: { dev: true, ephemeral: true, ...flags }, env: {} })
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('accepted')
}

describe('config errors in plain words', () => {
  it('names the key, the value and what is expected', () => {
    expect(error({ 'http.port': 'abc' })).toBe(
      'config "http.port" (flag --http.port): bad value "abc": expected a number',
    )
    for (const flags of [{ 'http.port': 'abc' }, { 'http.port': -1 }, { 'log.level': 'loud' }]) {
      expect(error(flags)).not.toMatch(/Invalid|received|Too (small|big)/)
    }
  })
})
