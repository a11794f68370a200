import { parse } from 'yaml'

/**
 * The OpenRPC result schema of each method, built from execution-apis' `src/` YAML the way its
 * `specgen -deref` builds `openrpc.json` (the document hive's rpc-compat validates `speconly`
 * cases against): every `$ref: '#/components/schemas/Name[/pointer]'` is replaced by the schema it
 * names with the referring object's own keys winning, and every `allOf` is merged into the object
 * holding it (properties united, the holder winning on a conflict; `required` concatenated without
 * duplicates; any other key taken from a part only when the holder lacks it).
 */
export type JsonObject = { [key: string]: unknown }

/** Result schemas by method name, from the YAML texts of the method files and the schema files. */
export function buildResultSchemas(methodYaml: string[], schemaYaml: string[]): Record<string, JsonObject> {
  const types = new Map<string, JsonObject>()
  for (const text of schemaYaml) {
    for (const [name, schema] of Object.entries(parse(text) as Record<string, JsonObject>)) {
      if (types.has(name)) throw new Error(`schema ${name} defined twice`)
      types.set(name, schema)
    }
  }
  const out: Record<string, JsonObject> = {}
  for (const text of methodYaml) {
    for (const method of parse(text) as JsonObject[]) {
      const name = method.name as string
      if (name in out) throw new Error(`method ${name} defined twice`)
      const schema = (method.result as JsonObject | undefined)?.schema as JsonObject | undefined
      if (schema === undefined) continue
      out[name] = mergeAllOf(dereference(schema, types, new Set()) as JsonObject)
    }
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)))
}

function dereference(value: unknown, types: Map<string, JsonObject>, visiting: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => dereference(v, types, visiting))
  if (value === null || typeof value !== 'object') return value
  const obj = value as JsonObject
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(obj)) if (k !== '$ref') out[k] = dereference(v, types, visiting)
  const ref = obj.$ref
  if (typeof ref !== 'string') return out
  const base = resolveRef(ref, types, visiting)
  for (const [k, v] of Object.entries(base)) if (!(k in out)) out[k] = v
  return out
}

function resolveRef(ref: string, types: Map<string, JsonObject>, visiting: Set<string>): JsonObject {
  const prefix = '#/components/schemas/'
  if (!ref.startsWith(prefix)) throw new Error(`unsupported $ref ${ref}`)
  const [name = '', ...path] = ref.slice(prefix.length).split('/')
  const schema = types.get(name)
  if (schema === undefined) throw new Error(`$ref ${ref}: no schema ${name}`)
  if (path.length > 0) {
    let node: unknown = schema
    for (const seg of path) node = (node as JsonObject)[seg.replaceAll('~1', '/').replaceAll('~0', '~')]
    if (node === null || typeof node !== 'object') throw new Error(`$ref ${ref}: not an object`)
    return dereference(node, types, visiting) as JsonObject
  }
  if (visiting.has(name)) throw new Error(`$ref ${ref}: cycle`)
  visiting.add(name)
  try {
    return dereference(schema, types, visiting) as JsonObject
  } finally {
    visiting.delete(name)
  }
}

function mergeAllOf(value: JsonObject): JsonObject {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(value)) if (k !== 'allOf') out[k] = mergeValue(v)
  const parts = value.allOf
  if (Array.isArray(parts)) for (const part of parts) mergeInto(out, mergeAllOf(part as JsonObject))
  return out
}

function mergeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(mergeValue)
  if (v !== null && typeof v === 'object') return mergeAllOf(v as JsonObject)
  return v
}

function mergeInto(dst: JsonObject, src: JsonObject): void {
  if (src.properties !== undefined) {
    const props = { ...(src.properties as JsonObject), ...((dst.properties as JsonObject | undefined) ?? {}) }
    dst.properties = props
  }
  if (Array.isArray(src.required)) {
    const req = [...((dst.required as unknown[] | undefined) ?? [])]
    for (const r of src.required) if (!req.includes(r)) req.push(r)
    dst.required = req
  }
  for (const [k, v] of Object.entries(src)) if (k !== 'properties' && k !== 'required' && !(k in dst)) dst[k] = v
}
