import { Writable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createLogger, inRequestContext, requestContext, requestFields, requestId } from '../src/index.ts'

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

describe('inRequestContext', () => {
  it('carries each request across awaits, overlapping requests apart, and turns the context off after the last', async () => {
    const tick = () => new Promise((r) => setTimeout(r, 2))
    const seen: (string | undefined)[] = []
    let releaseFirst: () => void = () => {}
    const first = inRequestContext({ reqId: 'a' }, async () => {
      await new Promise<void>((r) => {
        releaseFirst = r
      })
      seen.push(requestContext.getStore()?.reqId)
    })
    const second = inRequestContext({ reqId: 'b' }, async () => {
      await tick()
      releaseFirst()
      await first // a ends while b still runs: b keeps its id
      await tick()
      seen.push(requestContext.getStore()?.reqId)
      expect(requestFields('b')).toEqual({}) // the context adds it already
    })
    await second
    expect(seen).toEqual(['a', 'b'])
    // No request runs: the context is off (no hook on every promise), and lines name their request.
    expect(requestContext.getStore()).toBeUndefined()
    expect(requestFields('c')).toEqual({ reqId: 'c' })
    await inRequestContext({ reqId: 'd' }, async () => {
      await tick()
      expect(requestContext.getStore()?.reqId).toBe('d') // on again
    })
    await expect(inRequestContext({ reqId: 'e' }, async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    )
    expect(requestContext.getStore()).toBeUndefined()
  })
})
