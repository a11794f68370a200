// A real `cairn start --dev` with tracing on sends its spans over OTLP/HTTP to a collector (here a
// tiny local HTTP server that records what it receives); with tracing off it sends nothing.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rpc, startCli } from '../cli/run-cli.ts'
import { freePort } from '../e2e/harness.ts'

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  attributes?: { key: string; value: Record<string, unknown> }[]
}
interface OtlpExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] }
    scopeSpans: { spans: OtlpSpan[] }[]
  }[]
}

const received: { path: string; contentType: string; body: OtlpExport }[] = []
let collector: Server
let endpoint: string

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const contentType = String(req.headers['content-type'])
      const text = Buffer.concat(chunks).toString('utf8')
      received.push({ path: req.url ?? '', contentType, body: contentType.includes('json') ? JSON.parse(text) : {} })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{}')
    })
  })
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()))
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`
})
afterAll(async () => {
  await new Promise<void>((r) => collector.close(() => r()))
})

const spans = () => received.flatMap((r) => r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)))

describe('OTLP export from a real node', () => {
  it('exports nothing when tracing is off (the default)', async () => {
    const node = await startCli(['--dev', '--ephemeral', '--http.port', '0'], {
      env: { CAIRN_TRACING_OTLP_ENDPOINT: endpoint },
    })
    await rpc(node.url, 'eth_blockNumber')
    expect(await node.stop()).toBe(0)
    expect(received).toEqual([])
  })

  it('with tracing.enabled, the collector receives the RPC call and block import spans, linked', async () => {
    const node = await startCli(['--dev', '--ephemeral', '--http.port', '0'], {
      env: { CAIRN_TRACING_ENABLED: 'true', CAIRN_TRACING_OTLP_ENDPOINT: endpoint, CAIRN_TRACING_SAMPLE_RATIO: '1' },
    })
    const [from] = (await rpc(node.url, 'eth_accounts')) as string[]
    await rpc(node.url, 'eth_sendTransaction', [
      { from, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
    ])
    // Spans leave in batches (every second); stopping flushes the rest.
    const deadline = Date.now() + 10_000
    while (!spans().some((s) => s.name === 'block.import') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(await node.stop()).toBe(0)

    expect(received.length).toBeGreaterThan(0)
    expect(received[0]?.path).toBe('/v1/traces')
    expect(received[0]?.contentType).toMatch(/application\/json/)
    const resource = received[0]?.body.resourceSpans[0]?.resource.attributes ?? []
    expect(resource.find((a) => a.key === 'service.name')?.value.stringValue).toBe('cairn-node')

    const all = spans()
    const send = all.find((s) => s.name === 'eth_sendTransaction') as OtlpSpan
    expect(send).toBeDefined()
    expect(send.attributes?.find((a) => a.key === 'rpc.method')?.value).toEqual({ stringValue: 'eth_sendTransaction' })
    const byId = new Map(all.map((s) => [s.spanId, s]))
    const rootOf = (s: OtlpSpan): OtlpSpan => {
      const parent = s.parentSpanId ? byId.get(s.parentSpanId) : undefined
      return parent ? rootOf(parent) : s
    }
    const imp = all.find((s) => s.name === 'block.import' && s.traceId === send.traceId) as OtlpSpan
    expect(imp).toBeDefined()
    expect(rootOf(imp).spanId).toBe(send.spanId)
    expect(all.some((s) => s.name === 'db.batch' && s.parentSpanId === imp.spanId)).toBe(true)
  })

  it('a collector that is down costs a warn line, not the shutdown', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/v1/traces` // nothing listens there
    const node = await startCli(['--dev', '--ephemeral', '--http.port', '0', '--log.format', 'json'], {
      env: { CAIRN_TRACING_ENABLED: 'true', CAIRN_TRACING_OTLP_ENDPOINT: closed },
    })
    const [from] = (await rpc(node.url, 'eth_accounts')) as string[]
    for (let i = 0; i < 3; i++) {
      await rpc(node.url, 'eth_sendTransaction', [
        { from, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
      ])
      await new Promise((r) => setTimeout(r, 700)) // a batch goes (and fails) every second
    }
    const t0 = Date.now()
    expect(await node.stop()).toBe(0)
    expect(Date.now() - t0).toBeLessThan(5000)
    const warnings = node
      .stdout()
      .split('\n')
      .filter((l) => l.includes('OpenTelemetry reported a problem'))
    expect(warnings).toHaveLength(1) // throttled: once a minute at most
    expect(warnings[0]).toContain('ECONNREFUSED')
  })
})
