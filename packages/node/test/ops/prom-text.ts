// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every line
// must be a well-formed HELP, TYPE or sample line, or the parse throws naming the line.

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: string
  help: string
  samples: Sample[]
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`)
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/

export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const family = (name: string) => {
    let f = families.get(name)
    if (!f) {
      f = { name, type: 'untyped', help: '', samples: [] }
      families.set(name, f)
    }
    return f
  }
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue
    const fail = (why: string) => new Error(`metrics line ${i + 1} ${why}: ${line}`)
    if (line.startsWith('# HELP ')) {
      const m = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line)
      if (!m) throw fail('is a bad HELP line')
      family(m[1] as string).help = m[2] as string
      continue
    }
    if (line.startsWith('# TYPE ')) {
      const m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line)
      if (!m) throw fail('is a bad TYPE line')
      family(m[1] as string).type = m[2] as string
      continue
    }
    if (line.startsWith('#')) continue
    const m = SAMPLE.exec(line)
    if (!m) throw fail('is not a sample')
    const name = m[1] as string
    const labels: Record<string, string> = {}
    let rest = m[2] ?? ''
    while (rest.length > 0) {
      const l = LABEL.exec(rest)
      if (!l) throw fail('has bad labels')
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
      rest = rest.slice(l[0].length)
    }
    const raw = m[3] as string
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw)
    // Prometheus parses NaN case-insensitively; prom-client writes "Nan".
    if (Number.isNaN(value) && raw.toLowerCase() !== 'nan') throw fail('has a bad value')
    const base = [...families.keys()].find(
      (f) => name === f || ['_bucket', '_sum', '_count', '_total', '_created'].some((s) => name === f + s),
    )
    family(base ?? name).samples.push({ name, labels, value })
  }
  return families
}

/** The value of the sample `name` whose labels include `labels` (undefined if none). */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value
    }
  }
  return undefined
}
