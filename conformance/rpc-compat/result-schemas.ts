import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js'

/**
 * Validates `speconly` results against the method's OpenRPC result schema
 * (`fixtures/openrpc-results.json.gz`, built by rebuild-fixtures.ts). JSON Schema draft 2019-09,
 * as hive compiles them; `format` is an annotation only (as in hive's validator), so unknown
 * formats neither fail nor warn. Ajv: the maintained, spec-tested validator of the JS world
 * (Fastify's own), with draft 2019-09 support.
 */
export class ResultSchemas {
  private readonly ajv = new Ajv2019({ strict: false, validateFormats: false, allErrors: false })
  private readonly compiled = new Map<string, ValidateFunction>()
  private readonly schemas: Record<string, object>

  constructor(path: string) {
    const doc = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as { methods: Record<string, object> }
    this.schemas = doc.methods
  }

  /** Why `result` does not conform to `method`'s result schema, or undefined when it does. */
  check(method: string, result: unknown): string | undefined {
    let validate = this.compiled.get(method)
    if (validate === undefined) {
      const schema = this.schemas[method]
      if (schema === undefined) return `no result schema for speconly method ${method} in the spec`
      validate = this.ajv.compile(schema)
      this.compiled.set(method, validate)
    }
    if (validate(result)) return undefined
    const e = validate.errors?.[0]
    return `result does not conform to ${method}'s result schema: ${e?.instancePath || '(root)'} ${e?.message ?? ''}`
  }
}
