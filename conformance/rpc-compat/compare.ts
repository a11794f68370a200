/**
 * How hive's rpc-compat judges a response: JSON equality of the whole envelope (numbers compared
 * by value), after removing `message` from every `error` object that both the response and the
 * expectation hold at the same place (top-level errors and nested ones such as eth_simulateV1's
 * `calls[].error`; not inside an error's own payload).
 */
export function responseDiff(actual: unknown, expected: unknown): string | undefined {
  const a = structuredClone(actual)
  const e = structuredClone(expected)
  redactErrorMessages(a, e)
  const diffs: string[] = []
  diff(a, e, '$', diffs)
  return diffs.length === 0 ? undefined : diffs.slice(0, 8).join('\n') + (diffs.length > 8 ? '\n…' : '')
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)

/** Deletes `error.message` wherever both trees have an error object with a message (walking the expected tree). */
export function redactErrorMessages(actual: unknown, expected: unknown): void {
  if (isObj(expected) && isObj(actual)) {
    for (const [k, ev] of Object.entries(expected)) {
      if (!(k in actual)) continue
      const av = actual[k]
      if (k === 'error') {
        if (isObj(ev) && isObj(av) && 'message' in ev && 'message' in av) {
          delete ev.message
          delete av.message
        }
        continue
      }
      redactErrorMessages(av, ev)
    }
  } else if (Array.isArray(expected) && Array.isArray(actual)) {
    expected.forEach((ev, i) => {
      if (i < actual.length) redactErrorMessages(actual[i], ev)
    })
  }
}

function diff(a: unknown, e: unknown, path: string, out: string[]): void {
  if (isObj(a) && isObj(e)) {
    for (const k of Object.keys(e)) {
      if (!(k in a)) out.push(`${path}.${k}: missing (expected ${show(e[k])})`)
      else diff(a[k], e[k], `${path}.${k}`, out)
    }
    for (const k of Object.keys(a)) if (!(k in e)) out.push(`${path}.${k}: unexpected ${show(a[k])}`)
    return
  }
  if (Array.isArray(a) && Array.isArray(e)) {
    if (a.length !== e.length) out.push(`${path}: ${a.length} items, expected ${e.length}`)
    for (let i = 0; i < Math.min(a.length, e.length); i++) diff(a[i], e[i], `${path}[${i}]`, out)
    return
  }
  if (a !== e) out.push(`${path}: ${show(a)}, expected ${show(e)}`)
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? 'undefined'
  return s.length > 160 ? `${s.slice(0, 160)}…` : s
}
