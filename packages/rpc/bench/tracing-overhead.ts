// What tracing costs the RPC dispatcher: eth_chainId (a method that does nothing) through
// RpcDispatcher.handle with no tracer, with the no-op tracer (tracing off) and with every span
// recorded (exporter drops them). Best of 5 interleaved rounds; compare ratios, not absolutes.
//   node --import tsx packages/rpc/bench/tracing-overhead.ts

import { createTracing, noopTracer } from '@cairn/service-kit'
import { silentLogger } from '@cairn/utils'
import type { SpanExporter } from '@opentelemetry/sdk-trace-base'
import { z } from 'zod'
import { DEFAULT_RPC_LIMITS, type MethodDef, type RpcContext, RpcDispatcher } from '../src/index.ts'

const methods = [{ name: 'eth_chainId', params: z.tuple([]), handler: () => '0x539' }] as unknown as MethodDef[]
const ctx = { limits: DEFAULT_RPC_LIMITS, logger: silentLogger } as unknown as RpcContext
const dropping: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
const on = await createTracing(
  {
    enabled: true,
    otlpEndpoint: 'http://127.0.0.1:1',
    sampleRatio: 1,
    serviceName: 'bench',
    version: '0',
    exporter: dropping,
  },
  { logger: silentLogger },
)
const base = { ctx, methods, metrics: null, logger: silentLogger }
const variants: Record<string, RpcDispatcher> = {
  'no tracer': new RpcDispatcher({ dev: true }, base),
  'tracing off (no-op tracer)': new RpcDispatcher({ dev: true }, { ...base, tracer: noopTracer }),
  'tracing on (all recorded)': new RpcDispatcher({ dev: true }, { ...base, tracer: on.tracer }),
}
const req = { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }
const N = 100_000
const best: Record<string, number> = {}
for (let round = 0; round < 5; round++) {
  for (const [name, d] of Object.entries(variants)) {
    const t = performance.now()
    for (let i = 0; i < N; i++) await d.handle(req)
    best[name] = Math.max(best[name] ?? 0, N / ((performance.now() - t) / 1000))
  }
}
const ref = best['no tracer'] as number
for (const [name, rate] of Object.entries(best)) {
  process.stdout.write(
    `${name.padEnd(28)} ${Math.round(rate).toString().padStart(9)} calls/s  ratio ${(rate / ref).toFixed(2)}\n`,
  )
}
await on.shutdown()
