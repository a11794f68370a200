// Finds every numeric parameter of every RPC method by walking its zod schema: a "numeric" slot is
// one that takes a hex number ("0x1") and refuses hex that is not one ("0xzz"), whatever it parses
// it into. The 64-bit bounds test (uint64-bounds.int.test.ts) checks each slot it finds, so a
// method added later is covered without editing a list of names.
import type { z } from 'zod'
import type { MethodDef } from '../../packages/rpc/src/index.ts'

/** Where a slot sits in a method's params: tuple indexes and object keys; `*` is any record key. */
export type SlotPath = (string | number)[]

export interface NumericSlot {
  method: string
  path: SlotPath
  /** The schema of the slot (a leaf such as `quantity`, or a union such as a block reference). */
  schema: z.ZodType
}

interface Def {
  type: string
  items?: z.ZodType[]
  rest?: z.ZodType | null
  shape?: Record<string, z.ZodType>
  catchall?: z.ZodType
  options?: z.ZodType[]
  left?: z.ZodType
  right?: z.ZodType
  element?: z.ZodType
  valueType?: z.ZodType
  innerType?: z.ZodType
  in?: z.ZodType
  out?: z.ZodType
  getter?: () => z.ZodType
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def
}

/** Whether `schema` alone reads a hex number: takes 0x1, refuses 0xzz. */
function takesHexNumber(schema: z.ZodType): boolean {
  return schema.safeParse('0x1').success && !schema.safeParse('0xzz').success
}

/** Every numeric slot of `def`'s params, outermost first at each path (deduplicated by path). */
export function numericSlots(def: MethodDef): NumericSlot[] {
  const found = new Map<string, NumericSlot>()
  const seen = new Set<string>()
  const walk = (schema: z.ZodType, path: SlotPath): void => {
    const key = JSON.stringify(path)
    // The same schema object at the same path needs no second look (and lazy schemas may recurse).
    const visit = `${key}#${visitId(schema)}`
    if (seen.has(visit)) return
    seen.add(visit)
    if (path.length > 0 && !found.has(key) && takesHexNumber(schema)) found.set(key, { method: def.name, path, schema })
    const d = defOf(schema)
    switch (d.type) {
      case 'tuple':
        for (const [i, item] of (d.items ?? []).entries()) walk(item, [...path, i])
        if (d.rest) walk(d.rest, [...path, d.items?.length ?? 0])
        return
      case 'object':
        for (const [k, v] of Object.entries(d.shape ?? {})) walk(v, [...path, k])
        if (d.catchall && defOf(d.catchall).type !== 'unknown') walk(d.catchall, [...path, '*'])
        return
      case 'union':
        for (const o of d.options ?? []) walk(o, path)
        return
      case 'intersection':
        if (d.left) walk(d.left, path)
        if (d.right) walk(d.right, path)
        return
      case 'array':
      case 'set':
        if (d.element) walk(d.element, [...path, 0])
        return
      case 'record':
      case 'map':
        if (d.valueType) walk(d.valueType, [...path, '*'])
        return
      case 'pipe':
        if (d.in) walk(d.in, path)
        if (d.out) walk(d.out, path)
        return
      case 'lazy':
        if (d.getter) walk(d.getter(), path)
        return
      default:
        if (d.innerType) walk(d.innerType, path)
    }
  }
  walk(def.params, [])
  return [...found.values()]
}

const ids = new WeakMap<object, number>()
let lastId = 0
function visitId(o: object): number {
  let id = ids.get(o)
  if (id === undefined) {
    id = ++lastId
    ids.set(o, id)
  }
  return id
}

/** The path as the test names it: `eth_call[0].gas`, `eth_simulateV1[0].blockStateCalls[0].calls[0].nonce`. */
export function slotName(method: string, path: SlotPath): string {
  return method + path.map((p) => (typeof p === 'number' ? `[${p}]` : p === '*' ? '{*}' : `.${p}`)).join('')
}

// ---------------------------------------------------------------------------------------------
// Building params around one slot: every other required param gets a valid sample, so the slot's
// value is the only thing the method could refuse.

const A = `0x${'11'.repeat(20)}`
const H = `0x${'22'.repeat(32)}`
/** Values tried, in order, as a sample of a required param. */
const CANDIDATES: unknown[] = ['latest', A, H, '0x', '0x1', false, 1, 'logs', ['trace'], [], {}, null]

/** Where the slot's value goes in a template. */
const HOLE = Symbol('slot')

/** A value `schema` accepts, or undefined when none is found. */
function sample(schema: z.ZodType): { value: unknown } | undefined {
  for (const c of CANDIDATES) if (schema.safeParse(c).success) return { value: c }
  const d = defOf(schema)
  if (d.type === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(d.shape ?? {})) {
      if (v.safeParse(undefined).success) continue
      const s = sample(v)
      if (!s) return undefined
      out[k] = s.value
    }
    return schema.safeParse(out).success ? { value: out } : undefined
  }
  if (d.type === 'tuple') {
    const out: unknown[] = []
    for (const item of d.items ?? []) {
      if (item.safeParse(undefined).success) break
      const s = sample(item)
      if (!s) return undefined
      out.push(s.value)
    }
    return schema.safeParse(out).success ? { value: out } : undefined
  }
  if (d.type === 'array' && d.element) {
    const s = sample(d.element)
    return s && schema.safeParse([s.value]).success ? { value: [s.value] } : undefined
  }
  if (d.type === 'union') {
    for (const o of d.options ?? []) {
      const s = sample(o)
      if (s) return s
    }
    return undefined
  }
  const inner = d.innerType ?? d.in ?? d.getter?.()
  return inner ? sample(inner) : undefined
}

/** `tpl` with the hole filled by `value`. */
export function fill(tpl: unknown, value: unknown): unknown {
  if (tpl === HOLE) return value
  if (Array.isArray(tpl)) return tpl.map((t) => fill(t, value))
  if (typeof tpl === 'object' && tpl !== null) {
    return Object.fromEntries(Object.entries(tpl).map(([k, v]) => [k, fill(v, value)]))
  }
  return tpl
}

/** A value of `schema` with the hole at `path`, every required sibling sampled; undefined when none is found. */
function build(schema: z.ZodType, path: SlotPath, ok: unknown): { tpl: unknown } | undefined {
  if (path.length === 0) return { tpl: HOLE }
  const d = defOf(schema)
  const [head, ...rest] = path
  switch (d.type) {
    case 'tuple': {
      if (typeof head !== 'number') return undefined
      const items = d.items ?? []
      const out: unknown[] = []
      for (let i = 0; i < head; i++) {
        const s = sample((items[i] ?? d.rest) as z.ZodType)
        if (!s) return undefined
        out.push(s.value)
      }
      const at = build((items[head] ?? d.rest) as z.ZodType, rest, ok)
      if (!at) return undefined
      out.push(at.tpl)
      for (const item of items.slice(head + 1)) {
        if (item.safeParse(undefined).success) break
        const s = sample(item)
        if (!s) return undefined
        out.push(s.value)
      }
      return { tpl: out }
    }
    case 'object': {
      if (typeof head !== 'string' || !d.shape?.[head]) return undefined
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(d.shape)) {
        if (k === head || v.safeParse(undefined).success) continue
        const s = sample(v)
        if (!s) return undefined
        out[k] = s.value
      }
      const at = build(d.shape[head], rest, ok)
      if (!at) return undefined
      out[head] = at.tpl
      // A refinement may want an optional field too (eth_sendUnsignedTransaction's `from`).
      for (const [k, v] of Object.entries(d.shape)) {
        if (schema.safeParse(fill(out, ok)).success) break
        const s = k in out ? undefined : sample(v)
        if (s && s.value !== undefined) out[k] = s.value
      }
      return { tpl: out }
    }
    case 'array':
    case 'set': {
      const at = d.element && build(d.element, rest, ok)
      return at ? { tpl: [at.tpl] } : undefined
    }
    case 'record':
    case 'map': {
      const at = d.valueType && build(d.valueType, rest, ok)
      return at ? { tpl: { [A]: at.tpl } } : undefined
    }
    case 'union':
      for (const o of d.options ?? []) {
        const at = build(o, path, ok)
        if (at && o.safeParse(fill(at.tpl, ok)).success) return at
      }
      return undefined
    default: {
      const inner = d.innerType ?? d.in ?? d.getter?.()
      return inner ? build(inner, path, ok) : undefined
    }
  }
}

/**
 * The params of `def` with `slot`'s hole, the others sampled, such that the params with `ok` in
 * the hole are valid; undefined when no such params are found (the test then says so).
 */
export function paramsAround(def: MethodDef, slot: NumericSlot, ok: unknown): unknown[] | undefined {
  const at = build(def.params, slot.path, ok)
  if (!at || !def.params.safeParse(fill(at.tpl, ok)).success) return undefined
  return at.tpl as unknown[]
}
