// BoundCounter and BoundHistogram against prom-client's Counter and Histogram: the same random
// increments and observations give the same /metrics text (Prometheus and OpenMetrics), the same
// JSON, and the same merged registry when several are aggregated (the read threads' /metrics).
import fc from 'fast-check'
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { BoundCounter, BoundHistogram } from '../src/bound-metrics.ts'

const BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]

type Op = { method: string; code: string; seconds: number; by: number }

const op: fc.Arbitrary<Op> = fc.record({
  method: fc.constantFrom('eth_blockNumber', 'eth_getBalance', 'eth_call', 'unknown'),
  code: fc.constantFrom('0', '-32601', '-32602', '3'),
  // Bucket bounds themselves among the values: a value on a bound is counted in that bucket.
  seconds: fc.oneof(fc.constantFrom(...BUCKETS, 0, 10), fc.double({ min: 0, max: 10, noNaN: true })),
  by: fc.integer({ min: 1, max: 3 }),
})

type ContentType = typeof Registry.PROMETHEUS_CONTENT_TYPE | typeof Registry.OPENMETRICS_CONTENT_TYPE

function registries(ops: Op[], type: ContentType = Registry.PROMETHEUS_CONTENT_TYPE) {
  const theirs = new Registry() as Registry<ContentType>
  const ours = new Registry() as Registry<ContentType>
  theirs.setContentType(type)
  ours.setContentType(type)
  const names = { name: 'cairn_test_requests_total', help: 'requests' }
  const timeNames = { name: 'cairn_test_duration_seconds', help: 'durations' }
  const c1 = new Counter({ ...names, labelNames: ['method', 'code'], registers: [theirs as Registry] })
  const h1 = new Histogram({ ...timeNames, labelNames: ['method'], buckets: BUCKETS, registers: [theirs as Registry] })
  const c2 = new BoundCounter({ ...names, labelNames: ['method', 'code'], registers: [ours as Registry] })
  const h2 = new BoundHistogram({
    ...timeNames,
    labelNames: ['method'],
    buckets: BUCKETS,
    registers: [ours as Registry],
  })
  for (const o of ops) {
    c1.labels({ method: o.method, code: o.code }).inc(o.by)
    h1.labels({ method: o.method }).observe(o.seconds)
    c2.labels({ method: o.method, code: o.code }).inc(o.by)
    h2.labels({ method: o.method }).observe(o.seconds)
  }
  return { theirs, ours }
}

describe('bound metrics', () => {
  it("read as prom-client's Counter and Histogram fed the same values", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const { theirs, ours } = registries(ops)
        expect(await ours.metrics()).toBe(await theirs.metrics())
        expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON())
        const open = registries(ops, Registry.OPENMETRICS_CONTENT_TYPE)
        expect(await open.ours.metrics()).toBe(await open.theirs.metrics())
      }),
      { numRuns: 150 },
    )
  })

  it('merge across registries as prom-client merges them (the read threads)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 30 }), fc.array(op, { maxLength: 30 }), async (a, b) => {
        const one = registries(a)
        const two = registries(b)
        const merged = (x: Registry<ContentType>, y: Registry<ContentType>) =>
          Promise.all([x.getMetricsAsJSON(), y.getMetricsAsJSON()]).then((j) =>
            AggregatorRegistry.aggregate(j).metrics(),
          )
        expect(await merged(one.ours, two.ours)).toBe(await merged(one.theirs, two.theirs))
      }),
      { numRuns: 50 },
    )
  })

  it('forget their series on reset, as prom-client does', async () => {
    const { theirs, ours } = registries([{ method: 'eth_call', code: '0', seconds: 0.002, by: 1 }])
    theirs.resetMetrics()
    ours.resetMetrics()
    expect(await ours.metrics()).toBe(await theirs.metrics())
  })
})
