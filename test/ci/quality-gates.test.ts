// The CI quality gates' own logic: which npm audit findings fail (high and critical, less the
// reviewed allow-list while its entries have not lapsed) and which licences pass (an SPDX
// expression with one OR-alternative wholly allowed, or a package named in the allow-list).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: plain ESM scripts without types
import { endpointMissing, judge } from '../../scripts/audit.mjs'
// @ts-expect-error: plain ESM scripts without types
import { expressionAllowed, offenders } from '../../scripts/check-licences.mjs'

const ROOT = join(import.meta.dirname, '../..')
const advisory = (severity: string, id: string) => ({
  source: 1,
  name: 'x',
  severity,
  title: `${severity} thing`,
  url: `https://github.com/advisories/${id}`,
})
const REPORT = {
  vulnerabilities: {
    a: { severity: 'critical', via: [advisory('critical', 'GHSA-aaaa-aaaa-aaaa')] },
    b: { severity: 'high', via: [advisory('high', 'GHSA-bbbb-bbbb-bbbb'), 'a'] },
    c: { severity: 'moderate', via: [advisory('moderate', 'GHSA-cccc-cccc-cccc')] },
  },
}

describe('audit gate', () => {
  it('fails on high and critical advisories, not on moderate ones or on pointers to another package', () => {
    const r = judge(REPORT, { advisories: [] })
    expect(r.failing.map((f: { advisory: string }) => f.advisory).sort()).toEqual([
      'GHSA-aaaa-aaaa-aaaa',
      'GHSA-bbbb-bbbb-bbbb',
    ])
  })

  it('lets a reviewed advisory through until its entry lapses', () => {
    const allow = { advisories: [{ id: 'GHSA-bbbb-bbbb-bbbb', until: '2027-01-01' }] }
    expect(judge(REPORT, allow, new Date('2026-12-01')).failing).toHaveLength(1)
    expect(judge(REPORT, allow, new Date('2026-12-01')).allowed).toHaveLength(1)
    expect(judge(REPORT, allow, new Date('2027-02-01')).expired).toHaveLength(1)
  })

  it('tells a registry without the advisory endpoint from a report', () => {
    expect(
      endpointMissing({ message: '405 Method Not Allowed - POST …/security/advisories/bulk', statusCode: 405 }),
    ).toBe(true)
    expect(endpointMissing(REPORT)).toBe(false)
  })

  it('the allow-list in the tree parses and each entry carries its reason and lapse date', () => {
    const allow = JSON.parse(readFileSync(join(ROOT, '.ci/audit-allow.json'), 'utf8'))
    for (const a of allow.advisories)
      expect(a).toMatchObject({
        id: expect.stringMatching(/^GHSA-/),
        reason: expect.any(String),
        until: expect.any(String),
      })
  })
})

describe('licence gate', () => {
  const ok = new Set(['MIT', 'Apache-2.0', 'Zlib'])
  it('reads SPDX expressions: OR needs one allowed alternative, AND needs all', () => {
    expect(expressionAllowed('MIT', ok)).toBe(true)
    expect(expressionAllowed('(MIT OR GPL-3.0)', ok)).toBe(true)
    expect(expressionAllowed('(MIT AND Zlib)', ok)).toBe(true)
    expect(expressionAllowed('MIT AND GPL-3.0', ok)).toBe(false)
    expect(expressionAllowed('GPL-3.0-or-later', ok)).toBe(false)
    expect(expressionAllowed('', ok)).toBe(false)
  })

  it('lists packages outside the allow-list unless named; reads a legacy `licenses` array', () => {
    const lock = {
      packages: {
        '': {},
        'packages/x': { name: '@cairn/x' },
        'node_modules/ok': { license: 'MIT' },
        'node_modules/gpl': { license: 'GPL-3.0', dev: true },
        'node_modules/named': { license: 'WTFPL' },
        'node_modules/legacy': {},
        'node_modules/ws': { link: true },
      },
    }
    const read = (p: string) => (p === 'node_modules/legacy' ? { licenses: [{ type: 'MIT' }] } : null)
    const r = offenders(lock, { licences: ['MIT'], packages: { named: 'reviewed' } }, read)
    expect(r.bad).toEqual(['node_modules/gpl: GPL-3.0 (dev)'])
    expect(r.checked).toBe(4)
  })
})
