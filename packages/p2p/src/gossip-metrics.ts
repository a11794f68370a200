import type { MetricsRegister } from '@libp2p/gossipsub/metrics'
import { Gauge, Histogram, type Registry } from 'prom-client'

type Labels = Record<string, string | number>
type Config = { name: string; help: string; labelNames?: readonly string[]; buckets?: number[] }

/**
 * gossipsub's own metrics (mesh sizes, scores, messages received, validated, forwarded, published,
 * RPC bytes sent and received, IHAVE/IWANT, promises broken…: Lodestar's dashboards read the same
 * set) on our prom-client registry, each name prefixed (`cairn_p2p_gossipsub_rpc_sent_bytes_total`:
 * every byte of gossip this node sent, relayed messages and control included). gossipsub calls
 * these with or without a labels object first (its `NoLabels` overloads); counters are gauges
 * there, named `_total`, as in Lodestar.
 */
export function gossipsubMetricsRegister(registry: Registry, prefix = 'cairn_p2p_'): MetricsRegister {
  const gauge = (config: Config) => {
    const collects: ((g: unknown) => void)[] = []
    const wrapper = {
      inc: (a?: Labels | number, b?: number) => {
        if (typeof a === 'object') g.inc(a, b ?? 1)
        else g.inc(a ?? 1)
      },
      set: (a: Labels | number, b?: number) => {
        if (typeof a === 'object') g.set(a, b ?? 0)
        else g.set(a)
      },
      addCollect: (fn: (g: unknown) => void) => void collects.push(fn),
    }
    const g: Gauge<string> = new Gauge({
      name: `${prefix}${config.name}`,
      help: config.help,
      labelNames: [...(config.labelNames ?? [])],
      registers: [registry],
      collect() {
        for (const fn of collects) fn(wrapper)
      },
    })
    return wrapper
  }
  const histogram = (config: Config) => {
    const h: Histogram<string> = new Histogram({
      name: `${prefix}${config.name}`,
      help: config.help,
      labelNames: [...(config.labelNames ?? [])],
      ...(config.buckets ? { buckets: config.buckets } : {}),
      registers: [registry],
    })
    return {
      startTimer: () => h.startTimer(),
      observe: (a: Labels | number, b?: number) => {
        if (typeof a === 'object') h.observe(a, b ?? 0)
        else h.observe(a)
      },
      reset: () => h.reset(),
    }
  }
  // The average, least and most of a set of values, as one gauge with a `stat` label.
  const avgMinMax = (config: Config) => {
    const g = new Gauge({
      name: `${prefix}${config.name}`,
      help: `${config.help} (stat: avg, min, max)`,
      labelNames: [...(config.labelNames ?? []), 'stat'],
      registers: [registry],
    })
    return {
      set: (a: Labels | number[], b?: number[]) => {
        const [labels, values] = Array.isArray(a) ? [{}, a] : [a, b ?? []]
        if (values.length === 0) return
        let sum = 0
        let min = Number.POSITIVE_INFINITY
        let max = Number.NEGATIVE_INFINITY
        for (const v of values) {
          sum += v
          if (v < min) min = v
          if (v > max) max = v
        }
        g.set({ ...labels, stat: 'avg' }, sum / values.length)
        g.set({ ...labels, stat: 'min' }, min)
        g.set({ ...labels, stat: 'max' }, max)
      },
    }
  }
  return { gauge, histogram, avgMinMax } as unknown as MetricsRegister
}
