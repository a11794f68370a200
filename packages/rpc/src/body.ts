/** A JSON-RPC body that did not parse as JSON (answered with -32700 by the dispatcher once the gate has charged it). */
export const UNPARSEABLE = Symbol('unparseable JSON-RPC body')

/** A request body parsed once, for the gate and the dispatcher; `value` may be any JSON. */
export type ParsedBody = { value: unknown } | typeof UNPARSEABLE

/** Parses a JSON-RPC body (an envelope or a batch; checked later) once. */
export function parseBody(text: string): ParsedBody {
  try {
    return { value: JSON.parse(text) }
  } catch {
    return UNPARSEABLE
  }
}

/** The method names a parsed body calls (entries without a string `method` are skipped). */
export function bodyMethods(body: ParsedBody): string[] {
  if (body === UNPARSEABLE) return []
  const entries = Array.isArray(body.value) ? body.value : [body.value]
  const out: string[] = []
  for (const e of entries) {
    const m = (e as { method?: unknown } | null)?.method
    if (typeof m === 'string') out.push(m)
  }
  return out
}
