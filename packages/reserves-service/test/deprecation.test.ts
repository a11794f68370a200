import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import {
  DEPRECATED_ROUTES,
  deprecationHeaders,
  deprecationKey,
  registerDeprecations,
} from '../src/kernel/deprecation.ts'
import { openApiDocument } from '../src/openapi.ts'

const OLD = {
  since: new Date('2026-01-01T00:00:00Z'),
  sunset: new Date('2027-01-01T00:00:00Z'),
  link: 'https://docs.example/reserves/sdk#versioning',
}

describe('deprecated routes (RFC 9745 Deprecation, RFC 8594 Sunset)', () => {
  it('answers a deprecated route, errors included, with Deprecation, Sunset and Link; others without', async () => {
    const app = Fastify()
    registerDeprecations(app, { 'GET /v1/old/:id': OLD })
    app.get('/v1/old/:id', async (req) => {
      if ((req.params as { id: string }).id === 'x') throw Object.assign(new Error('no'), { statusCode: 404 })
      return { ok: true }
    })
    app.get('/v1/new/:id', async () => ({ ok: true }))
    const ok = await app.inject({ method: 'GET', url: '/v1/old/1' })
    expect(ok.headers).toMatchObject({
      deprecation: '@1767225600',
      sunset: 'Fri, 01 Jan 2027 00:00:00 GMT',
      link: '<https://docs.example/reserves/sdk#versioning>; rel="deprecation"; type="text/html"',
    })
    expect((await app.inject({ method: 'GET', url: '/v1/old/x' })).headers.deprecation).toBe('@1767225600')
    expect((await app.inject({ method: 'GET', url: '/v1/new/1' })).headers.deprecation).toBeUndefined()
    await app.close()
  })

  it('marks the same routes deprecated in the OpenAPI document; none is deprecated in v1 today', () => {
    expect(deprecationKey('get', '/v1/snapshots/{id}/proofs/{userId}')).toBe('GET /v1/snapshots/:id/proofs/:userId')
    const paths = (doc: Record<string, unknown>) =>
      doc.paths as Record<string, Record<string, { deprecated?: boolean }>>
    const marked = paths(openApiDocument({ 'GET /v1/snapshots/:id': OLD }))
    expect(marked['/v1/snapshots/{id}']?.get?.deprecated).toBe(true)
    expect(marked['/v1/snapshots']?.get?.deprecated).toBeUndefined()
    expect(DEPRECATED_ROUTES).toEqual({})
    expect(JSON.stringify(openApiDocument())).not.toContain('"deprecated"')
    expect(deprecationHeaders({ since: OLD.since, sunset: OLD.sunset })).not.toHaveProperty('link')
  })
})
