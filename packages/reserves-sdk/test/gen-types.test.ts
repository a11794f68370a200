import { readFileSync } from 'node:fs'
import { openApiDocument } from '@cairn/reserves-service'
import { describe, expect, it } from 'vitest'
import { API_TYPES_FILE, generateApiTypes } from '../scripts/gen-types.ts'

describe('src/api-types.ts (generated from the OpenAPI document)', () => {
  it('is exactly what scripts/gen-types.ts generates now: regenerate it when the document changes', () => {
    expect(readFileSync(API_TYPES_FILE, 'utf8')).toBe(generateApiTypes(openApiDocument()))
  })

  it('types the routes the client calls, and every $ref resolves to a schema', () => {
    const doc = openApiDocument() as { components: { schemas: Record<string, unknown> } }
    const text = JSON.stringify(doc)
    for (const m of text.matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g))
      expect(doc.components.schemas, m[1]).toHaveProperty(m[1] as string)
    const src = generateApiTypes(doc)
    for (const op of [
      "'GET /v1/snapshots'",
      "'POST /v1/snapshots'",
      "'GET /v1/snapshots/{id}'",
      "'GET /v1/snapshots/{id}/proof'",
      "'GET /v1/snapshots/{id}/proofs/{userId}'",
      "'POST /v1/snapshots/{id}/proofs/batch'",
      "'GET /v1/snapshots/{id}/anchor'",
    ])
      expect(src).toContain(op)
  })

  it('maps JSON Schema to TypeScript: refs, nullables, enums, consts, maps, optional fields', () => {
    const src = generateApiTypes({
      info: { version: '9' },
      components: {
        schemas: {
          A: {
            type: 'object',
            required: ['x', 'y'],
            properties: {
              x: { type: ['string', 'null'] },
              y: { oneOf: [{ $ref: '#/components/schemas/B' }, { type: 'null' }] },
              z: { type: 'object', additionalProperties: { type: 'integer' }, description: 'a map' },
              'a-b': { type: 'array', items: { enum: ['p', 'q'] } },
            },
          },
          B: { const: 1 },
        },
      },
      paths: {
        '/v9/a/{id}': {
          get: { summary: 'old', deprecated: true, parameters: [{ name: 'id', in: 'path', required: true }] },
        },
      },
    })
    expect(src).toContain("export const API_VERSION = '9'")
    expect(src).toContain('  x: string | null\n  y: B | null\n  /** a map */\n  z?: Record<string, number>\n')
    expect(src).toContain("  'a-b'?: ('p' | 'q')[]\n")
    expect(src).toContain('export type B = 1\n')
    expect(src).toContain("  /** @deprecated old */\n  'GET /v9/a/{id}': {\n    path: {\n      id: unknown\n    }\n")
  })
})
