import { Writable } from 'node:stream'
import { silentLogger } from '@cairn/utils'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { describe, expect, it } from 'vitest'
import { createLogger, createTracing, noopTracer } from '../src/index.ts'

async function memTracing() {
  const exporter = new InMemorySpanExporter()
  const tracing = await createTracing(
    {
      enabled: true,
      otlpEndpoint: 'http://127.0.0.1:1/v1/traces',
      sampleRatio: 1,
      serviceName: 'test',
      version: '0',
      exporter,
    },
    { logger: silentLogger },
  )
  return { exporter, tracing }
}

describe('tracing', () => {
  it('is the no-op tracer when off: nothing started, methods left as they are', async () => {
    const off = await createTracing(
      {
        enabled: false,
        otlpEndpoint: 'http://127.0.0.1:4318/v1/traces',
        sampleRatio: 1,
        serviceName: 't',
        version: '0',
      },
      { logger: silentLogger },
    )
    expect(off.tracer).toBe(noopTracer)
    expect(off.tracer.begin('x')).toBeUndefined()
    const obj = { run: async () => 1 }
    const before = obj.run
    off.tracer.wrapMethod(obj, 'run', 'x')
    expect(obj.run).toBe(before)
    expect(await off.tracer.span('x', {}, async () => 2)).toBe(2)
  })

  it('nests spans across awaits, records attributes and failures, and wraps methods', async () => {
    const { exporter, tracing } = await memTracing()
    const { tracer } = tracing
    const store = {
      calls: 0,
      async batch(ops: number[]) {
        this.calls++
        await new Promise((r) => setTimeout(r, 1))
        return ops.length
      },
    }
    tracer.wrapMethod(
      store,
      'batch',
      'db.batch',
      (ops) => ({ 'db.batch.size': ops.length }),
      (n) => ({ written: n }),
    )

    const root = tracer.begin('eth_sendRawTransaction', { 'rpc.method': 'eth_sendRawTransaction' }, 'server')
    expect(root).toBeDefined()
    await root?.run(() =>
      tracer.span('block.import', { 'block.number': 7 }, async () => {
        await new Promise((r) => setTimeout(r, 1))
        expect(await store.batch([1, 2, 3])).toBe(3)
      }),
    )
    root?.end()
    await expect(
      tracer.span('block.execute', {}, async () => Promise.reject(new Error('bad state root'))),
    ).rejects.toThrow('bad state root')
    await tracing.flush()

    const spans = exporter.getFinishedSpans()
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]))
    const rpc = byName.eth_sendRawTransaction
    const imp = byName['block.import']
    const batch = byName['db.batch']
    expect(rpc && imp && batch).toBeTruthy()
    expect(store.calls).toBe(1)
    expect(imp?.parentSpanContext?.spanId).toBe(rpc?.spanContext().spanId)
    expect(batch?.parentSpanContext?.spanId).toBe(imp?.spanContext().spanId)
    expect(new Set([rpc, imp, batch].map((s) => s?.spanContext().traceId)).size).toBe(1)
    expect(batch?.attributes).toMatchObject({ 'db.batch.size': 3, written: 3 })
    const failed = byName['block.execute']
    expect(failed?.status).toMatchObject({ code: 2, message: 'bad state root' })
    expect(failed?.parentSpanContext).toBeUndefined()
    await tracing.shutdown()
  })

  it('log lines written inside a span carry its trace_id and span_id; lines outside do not', async () => {
    const { exporter, tracing } = await memTracing()
    const lines: Record<string, unknown>[] = []
    const destination = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
        cb()
      },
    })
    const logger = createLogger({ level: 'info', format: 'json', destination })
    await tracing.tracer.span('work', {}, async () => {
      await new Promise((r) => setTimeout(r, 1))
      logger.child({ module: 'chain' }).info('inside')
    })
    logger.info('outside')
    await tracing.flush()
    const span = exporter.getFinishedSpans().find((s) => s.name === 'work')
    const inside = lines.find((l) => l.msg === 'inside')
    expect(inside).toMatchObject({ trace_id: span?.spanContext().traceId, span_id: span?.spanContext().spanId })
    expect(lines.find((l) => l.msg === 'outside')).not.toHaveProperty('trace_id')
    await tracing.shutdown()
  })

  it('samples by ratio: 0 records no root span', async () => {
    const exporter = new InMemorySpanExporter()
    const tracing = await createTracing(
      { enabled: true, otlpEndpoint: 'http://127.0.0.1:1', sampleRatio: 0, serviceName: 't', version: '0', exporter },
      { logger: silentLogger },
    )
    await tracing.tracer.span('dropped', {}, async () => {})
    await tracing.flush()
    expect(exporter.getFinishedSpans()).toHaveLength(0)
  })
})
