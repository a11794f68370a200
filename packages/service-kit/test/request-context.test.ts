import { Writable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createLogger, requestContext, requestId } from '../src/index.ts'

describe('requestId', () => {
  it('keeps a sane caller id and replaces anything else with a UUID', () => {
    expect(requestId('abc-1.2:3_x')).toBe('abc-1.2:3_x')
    expect(requestId(['first', 'second'])).toBe('first')
    for (const bad of [undefined, '', 'a b', 'x\nforged', '<script>', 'é', 'a'.repeat(129)]) {
      expect(requestId(bad)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(requestId(s)).toMatch(/^[A-Za-z0-9._:-]{1,128}$/)
      }),
    )
  })
})

describe('logger request context', () => {
  it('adds the reqId of the running request to every line, across awaits and child loggers', async () => {
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
        done()
      },
    })
    const logger = createLogger({ level: 'info', format: 'json', destination: sink })
    const child = logger.child({ module: 'db' })
    logger.info('outside')
    await requestContext.run({ reqId: 'r-1' }, async () => {
      await new Promise((r) => setTimeout(r, 5))
      child.info({ authorization: 'Bearer s3cret', token: 'tok3n' }, 'inside')
    })
    expect(lines[0]?.reqId).toBeUndefined()
    expect(lines[1]).toMatchObject({ reqId: 'r-1', module: 'db', msg: 'inside', authorization: '[redacted]' })
    expect(JSON.stringify(lines)).not.toMatch(/s3cret|tok3n/)
  })
})
