// Scraped Prometheus text made into a promtool rule test: what a Prometheus scraping a healthy
// network would hold, laid on a virtual time line so that a short real run covers the alert rules'
// windows (10 minutes and their `for:`), evaluated with `promtool test rules`.

/** One scrape of one target: its samples by series (`name{labels}`), or null when the scrape failed. */
export interface Scrape {
  /** Real time of the scrape (ms). */
  at: number
  samples: Map<string, number> | null
}

/** Metric families by name and type (`# TYPE name counter`), from any scrape. */
export type Types = Map<string, string>

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?$/

/** Prometheus text exposition (0.0.4) into samples (`name{labels}` → value) and the families' types. */
export function parseExposition(text: string, types: Types): Map<string, number> {
  const samples = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ')
      if (name && type) types.set(name, type)
      continue
    }
    if (line === '' || line.startsWith('#')) continue
    const m = SAMPLE.exec(line)
    if (!m?.[1] || m[3] === undefined) continue
    samples.set(`${m[1]}${m[2] ?? '{}'}`, Number(m[3]))
  }
  return samples
}

/** Whether a sample of `name` only grows (a counter, or a histogram's or summary's buckets, sum, count). */
function cumulative(name: string, types: Types): boolean {
  if (types.get(name) === 'counter') return true
  const base = name.replace(/_(bucket|sum|count)$/, '')
  const t = base === name ? undefined : types.get(base)
  return t === 'histogram' || (t === 'summary' && !name.endsWith('_bucket'))
}

/** `name{a="b"}` with more labels: `name{a="b",instance="x",job="y"}`. */
function withLabels(series: string, extra: Record<string, string>): string {
  const open = series.indexOf('{')
  const name = series.slice(0, open)
  const inner = series.slice(open + 1, -1)
  const more = Object.entries(extra).map(([k, v]) => `${k}=${JSON.stringify(v)}`)
  return `${name}{${[inner, ...more].filter((s) => s !== '').join(',')}}`
}

export interface Target {
  instance: string
  job: string
  scrapes: Scrape[]
}

/**
 * The input series of a promtool test: each target's series of the metrics in `names` (the ones the
 * rules read), plus `up`, one value per scrape, scrapes laid `intervalS` apart. Counters are
 * stretched by the same factor as time (virtual interval / real interval): their rates are what
 * the real run measured, so a 20 s run reads as 10 minutes at the same rates. Gauges are as read.
 */
export function inputSeries(
  targets: Target[],
  types: Types,
  names: Set<string>,
  intervalS: number,
): { series: string; values: string }[] {
  const out: { series: string; values: string }[] = []
  for (const t of targets) {
    const at = t.scrapes.map((s) => s.at)
    const realS = ((at[at.length - 1] ?? 0) - (at[0] ?? 0)) / 1000 / Math.max(1, at.length - 1)
    const stretch = intervalS / Math.max(realS, 0.001)
    const labels = { instance: t.instance, job: t.job }
    out.push({
      series: withLabels('up{}', labels),
      values: t.scrapes.map((s) => (s.samples ? '1' : '0')).join(' '),
    })
    const keys = new Set<string>()
    for (const s of t.scrapes)
      for (const k of s.samples?.keys() ?? []) if (names.has(k.slice(0, k.indexOf('{')))) keys.add(k)
    for (const key of keys) {
      const name = key.slice(0, key.indexOf('{'))
      const grows = cumulative(name, types)
      let first: number | undefined
      const values = t.scrapes.map((s) => {
        const v = s.samples?.get(key)
        if (v === undefined || !Number.isFinite(v)) return '_'
        if (!grows) return String(v)
        first ??= v
        return String(first + (v - first) * stretch)
      })
      out.push({ series: withLabels(key, labels), values: values.join(' ') })
    }
  }
  return out
}

/** Every identifier in the rules' expressions (a superset of the metric names they read). */
export function namesIn(exprs: string[]): Set<string> {
  return new Set(exprs.flatMap((e) => e.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []))
}
