// The rpc-compat runner judges as hive's simulator does: .io parsing, error-message redaction and
// exact comparison, the OpenRPC result schemas built as specgen -deref builds them.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadCaseBundle, parseCase } from './cases.ts'
import { responseDiff } from './compare.ts'
import { buildResultSchemas } from './openrpc.ts'
import { walkOrder } from './rebuild-fixtures.ts'
import { ResultSchemas } from './result-schemas.ts'

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')

describe('.io files', () => {
  it('reads the header comment, speconly, and the messages in order', () => {
    const c = parseCase(
      'm/x',
      '// does a thing\n// speconly: schema only\n\n>> {"id":1}\n// ignored\n<< {"id":1,"result":2}\n',
    )
    expect(c).toEqual({
      name: 'm/x',
      comment: 'does a thing\nspeconly: schema only\n',
      speconly: true,
      messages: [
        { send: true, data: '{"id":1}' },
        { send: false, data: '{"id":1,"result":2}' },
      ],
    })
  })

  it('refuses a line that is neither a comment nor a message', () => {
    expect(() => parseCase('m/x', '>> {}\nnonsense\n')).toThrow(/invalid test line/)
  })

  it('the vendored bundle holds the upstream cases in byte order, each with request and response', () => {
    const b = loadCaseBundle(join(FIXTURES, 'cases.json.gz'))
    expect(b.cases.length + b.missing.length).toBe(233)
    // Go's filepath.Walk order of the files: `ethSimulate-simple-no-funds.io` before `ethSimulate-simple.io`.
    const files = [...b.cases.map((c) => c.name), ...b.missing.map((m) => m.name)].map((n) => `${n}.io`)
    const walked = [...files].sort(walkOrder).map((f) => f.slice(0, -3))
    expect(b.cases.map((c) => c.name)).toEqual(walked.filter((n) => !b.missing.some((m) => m.name === n)))
    expect(walkOrder('a/x.io', 'a-b/y.io')).toBeLessThan(0)
    for (const c of b.cases) expect(c.messages.length, c.name).toBeGreaterThanOrEqual(2)
  })
})

describe('comparison', () => {
  const err = (code: number, message: string, data?: unknown) => ({
    jsonrpc: '2.0',
    id: 1,
    error: { code, message, ...(data === undefined ? {} : { data }) },
  })

  it('ignores error messages only where both sides hold an error', () => {
    expect(responseDiff(err(-32000, 'mine'), err(-32000, 'theirs'))).toBeUndefined()
    expect(responseDiff(err(-32602, 'x'), err(-32000, 'x'))).toMatch(/code/)
    expect(responseDiff(err(3, 'x', '0x01'), err(3, 'y', '0x02'))).toMatch(/data/)
    expect(responseDiff({ id: 1, result: '0x1' }, err(-32000, 'x'))).toMatch(/error/)
  })

  it('ignores nested error messages (eth_simulateV1 calls[].error), not those inside an error payload', () => {
    const call = (m: string) => ({ id: 1, result: [{ calls: [{ status: '0x0', error: { code: 3, message: m } }] }] })
    expect(responseDiff(call('a'), call('b'))).toBeUndefined()
    const inner = (m: string) => err(3, 'x', { error: { message: m } })
    expect(responseDiff(inner('a'), inner('b'))).toMatch(/data\.error\.message/)
  })

  it('is exact otherwise: keys missing or added, array lengths, string case; numbers by value', () => {
    expect(responseDiff({ id: 1, result: { a: '0x1' } }, { id: 1, result: { a: '0x1', b: null } })).toMatch(
      /b: missing/,
    )
    expect(responseDiff({ id: 1, result: { a: '0x1', b: 1 } }, { id: 1, result: { a: '0x1' } })).toMatch(
      /b: unexpected/,
    )
    expect(responseDiff({ result: ['0x1'] }, { result: ['0x1', '0x2'] })).toMatch(/1 items, expected 2/)
    expect(responseDiff({ result: '0xAB' }, { result: '0xab' })).toBeDefined()
    expect(responseDiff(JSON.parse('{"r":0.50}'), JSON.parse('{"r":0.5}'))).toBeUndefined()
  })
})

describe('OpenRPC result schemas', () => {
  const schemas = `
uint:
  type: string
  pattern: ^0x(0|[1-9a-f][0-9a-f]*)$
Base:
  type: object
  required: [a]
  properties:
    a: { $ref: '#/components/schemas/uint' }
Both:
  type: object
  allOf:
    - $ref: '#/components/schemas/Base'
    - required: [b]
      properties:
        b: { $ref: '#/components/schemas/uint' }
        a: { type: number }
Loop:
  type: object
  properties:
    next: { $ref: '#/components/schemas/Loop' }
`
  const methods = `
- name: m_both
  result: { name: r, schema: { $ref: '#/components/schemas/Both' } }
- name: m_override
  result: { name: r, schema: { $ref: '#/components/schemas/uint', title: mine } }
- name: m_sub
  result: { name: r, schema: { $ref: '#/components/schemas/Base/properties/a' } }
- name: m_none
  params: []
`

  it('dereferences $ref (siblings win), merges allOf (the holder wins, required united), skips methods without a result', () => {
    const out = buildResultSchemas([methods], [schemas])
    expect(Object.keys(out)).toEqual(['m_both', 'm_override', 'm_sub'])
    expect(out.m_override).toEqual({ title: 'mine', type: 'string', pattern: '^0x(0|[1-9a-f][0-9a-f]*)$' })
    expect(out.m_sub).toEqual({ type: 'string', pattern: '^0x(0|[1-9a-f][0-9a-f]*)$' })
    const both = out.m_both as { required: string[]; properties: Record<string, unknown>; allOf?: unknown }
    expect(both.allOf).toBeUndefined()
    expect(both.required).toEqual(['a', 'b'])
    expect(both.properties.a).toEqual({ type: 'string', pattern: '^0x(0|[1-9a-f][0-9a-f]*)$' })
  })

  it('refuses a cyclic schema, as specgen does', () => {
    expect(() =>
      buildResultSchemas(
        ["- name: m\n  result: { name: r, schema: { $ref: '#/components/schemas/Loop' } }"],
        [schemas],
      ),
    ).toThrow(/cycle/)
  })

  it('the vendored schemas accept a spec-valid result and refuse an invalid one', () => {
    const s = new ResultSchemas(join(FIXTURES, 'openrpc-results.json.gz'))
    expect(s.check('txpool_status', { pending: '0x6', queued: '0x0' })).toBeUndefined()
    expect(s.check('txpool_status', { pending: 6, queued: '0x0' })).toMatch(/pending/)
    expect(s.check('eth_estimateGas', '0x5208')).toBeUndefined()
    expect(s.check('eth_estimateGas', '0x05208')).toBeDefined()
    expect(s.check('no_such_method', 1)).toMatch(/no result schema/)
  })
})
