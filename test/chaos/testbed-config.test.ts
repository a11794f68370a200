// The testbed's fault keys in the node's config (`testbed.clockOffsetMs`, `testbed.byzantine`) are
// honoured only when the environment says CAIRN_TESTBED=1, and never in the prod profile: a
// production node cannot be talked into byzantine behaviour or a skewed clock by a config file.
import { loadConfig } from '@cairn/node'
import { describe, expect, it } from 'vitest'

const testbed = { 'testbed.byzantine': 'double-vote', 'testbed.clockOffsetMs': '5000', profile: 'test' }

describe('testbed config keys', () => {
  it('are refused without CAIRN_TESTBED=1', () => {
    expect(() => loadConfig({ flags: testbed, env: {} })).toThrow(/testbed fault keys are for the network testbed only/)
  })

  it('are refused in the prod profile even with CAIRN_TESTBED=1', () => {
    expect(() => loadConfig({ flags: { ...testbed, profile: 'prod' }, env: { CAIRN_TESTBED: '1' } })).toThrow(
      /refused in the prod profile/,
    )
  })

  it('are read with CAIRN_TESTBED=1 outside prod, from flags or the environment', () => {
    const c = loadConfig({ flags: testbed, env: { CAIRN_TESTBED: '1' } })
    expect(c.testbed).toEqual({ byzantine: 'double-vote', clockOffsetMs: 5000 })
    const e = loadConfig({
      flags: { profile: 'test' },
      env: { CAIRN_TESTBED: '1', CAIRN_TESTBED_CLOCK_OFFSET_MS: '-2000' },
    })
    expect(e.testbed.clockOffsetMs).toBe(-2000)
  })

  it('default to no fault, and a config without them loads with or without the switch', () => {
    expect(loadConfig({ flags: {}, env: {} }).testbed).toEqual({ byzantine: 'none', clockOffsetMs: 0 })
    expect(loadConfig({ flags: { dev: true }, env: { CAIRN_TESTBED: '1' } }).testbed.byzantine).toBe('none')
  })
})
