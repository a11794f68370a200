// zod's default wording ("Invalid input: expected number, received NaN") never reaches a user:
// each issue becomes a sentence saying what was expected; a schema's own message is kept.
import { silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DEFAULT_RPC_LIMITS, type RpcContext } from '../src/context.ts'
import { RpcDispatcher } from '../src/dispatcher.ts'
import { issueMessage } from '../src/issue-message.ts'
import { method } from '../src/method.ts'

const first = (schema: z.ZodType, value: unknown) => {
  const r = schema.safeParse(value)
  if (r.success) throw new Error('parsed')
  return issueMessage(r.error.issues[0] as never)
}

describe('issueMessage', () => {
  it('says what was expected, in plain words', () => {
    expect(first(z.coerce.number(), 'abc')).toBe('expected a number')
    expect(first(z.number().int(), 1.5)).toBe('expected a whole number')
    expect(first(z.boolean(), 'yes')).toBe('expected true or false')
    expect(first(z.number().min(1), 0)).toBe('expected at least 1')
    expect(first(z.number().max(10), 11)).toBe('expected at most 10')
    expect(first(z.array(z.string()).min(1), [])).toBe('expected at least 1 items')
    expect(first(z.enum(['json', 'pretty']), 'x')).toBe('expected one of "json", "pretty"')
  })

  it("keeps a schema's own message", () => {
    expect(first(z.string().regex(/^0x/, 'expected 0x-prefixed hex'), 'a')).toBe('expected 0x-prefixed hex')
  })

  it('reaches RPC callers: invalid argument N says what was expected', async () => {
    const ctx = { limits: DEFAULT_RPC_LIMITS } as RpcContext
    const m = method({ name: 'eth_flag', params: z.tuple([z.boolean()]), handler: () => true })
    const d = new RpcDispatcher({ dev: false }, { ctx, methods: [m], metrics: null, logger: silentLogger })
    const text = (await d.handleText(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_flag', params: ['yes'] }),
    )) as string
    expect(JSON.parse(text).error).toEqual({ code: -32602, message: 'invalid argument 0: expected true or false' })
  })
})
