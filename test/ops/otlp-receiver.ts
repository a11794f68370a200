// An OTLP/HTTP traces receiver for tests: what an OpenTelemetry Collector's `otlp` receiver with
// `protocols.http` does (deploy/otel/collector.yaml), for the JSON encoding the services'
// exporter (@opentelemetry/exporter-trace-otlp-http) sends: `POST /v1/traces` with an
// ExportTraceServiceRequest as protobuf-JSON (gzip or not), answered `{}` (all accepted). No
// collector binary is packaged for Debian or npm, so the tests parse the real export here.
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

/** One span as received, with its service (`service.name` of its resource). */
export interface ReceivedSpan {
  service: string
  traceId: string
  spanId: string
  /** '' for a root span. */
  parentSpanId: string
  name: string
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number
  attributes: Record<string, string | number | boolean>
  startNs: bigint
  endNs: bigint
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean }
type KeyValue = { key: string; value?: AnyValue }

/** OTLP-JSON ids are hex (the spec); a base64 one (protobuf's default JSON mapping) is turned into hex. */
function hexId(id: string | undefined): string {
  if (!id) return ''
  if (/^[0-9a-fA-F]+$/.test(id) && (id.length === 32 || id.length === 16)) return id.toLowerCase()
  return Buffer.from(id, 'base64').toString('hex')
}

function attrs(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const { key, value } of list ?? []) {
    if (!value) continue
    if (value.stringValue !== undefined) out[key] = value.stringValue
    else if (value.intValue !== undefined) out[key] = Number(value.intValue)
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue
    else if (value.boolValue !== undefined) out[key] = value.boolValue
  }
  return out
}

/** The spans of one ExportTraceServiceRequest (OTLP-JSON). */
export function parseExport(body: unknown): ReceivedSpan[] {
  const spans: ReceivedSpan[] = []
  const req = body as {
    resourceSpans?: {
      resource?: { attributes?: KeyValue[] }
      scopeSpans?: {
        spans?: {
          traceId?: string
          spanId?: string
          parentSpanId?: string
          name?: string
          kind?: number
          attributes?: KeyValue[]
          startTimeUnixNano?: string | number
          endTimeUnixNano?: string | number
        }[]
      }[]
    }[]
  }
  for (const rs of req.resourceSpans ?? []) {
    const service = String(attrs(rs.resource?.attributes)['service.name'] ?? '')
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        spans.push({
          service,
          traceId: hexId(s.traceId),
          spanId: hexId(s.spanId),
          parentSpanId: hexId(s.parentSpanId),
          name: s.name ?? '',
          kind: s.kind ?? 0,
          attributes: attrs(s.attributes),
          startNs: BigInt(s.startTimeUnixNano ?? 0),
          endNs: BigInt(s.endTimeUnixNano ?? 0),
        })
  }
  return spans
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>/v1/traces`. */
  url: string
  spans: ReceivedSpan[]
  /** Requests that were not an OTLP-JSON export (content type, JSON), with why. */
  rejected: string[]
  close(): Promise<void>
}

/** Listens on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const rejected: string[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const refuse = (why: string) => {
        rejected.push(why)
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: why }))
      }
      if (req.method !== 'POST' || req.url !== '/v1/traces') return refuse(`${req.method} ${req.url}`)
      if (!String(req.headers['content-type']).startsWith('application/json'))
        return refuse(`content-type ${req.headers['content-type']}`)
      let raw = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw)
      let body: unknown
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        return refuse('not JSON')
      }
      spans.push(...parseExport(body))
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    rejected,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
