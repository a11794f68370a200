import { Writable } from 'node:stream'
import { createLogger, createTracing } from '@cairn/service-kit'
import type { Block } from '@ethereumjs/block'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { type StartedNode, startNode } from '../../src/node.ts'

async function call(url: string, method: string, params: unknown[]): Promise<{ result?: unknown; error?: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return (await res.json()) as { result?: unknown; error?: unknown }
}

describe('tracing through the node (in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter()
  const lines: Record<string, unknown>[] = []
  let node: StartedNode

  beforeAll(async () => {
    const config = loadConfig({
      flags: { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1' },
      env: {},
    })
    const destination = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l))
        cb()
      },
    })
    const logger = createLogger({ level: 'info', format: 'json', destination })
    const tracing = await createTracing(
      {
        enabled: true,
        otlpEndpoint: 'http://127.0.0.1:1/v1/traces',
        sampleRatio: 1,
        serviceName: 'cairn-node',
        version: 't',
        exporter,
      },
      { logger },
    )
    node = await startNode(config, { logger, tracing })
  })
  afterAll(async () => {
    await node?.close()
  })

  it('an RPC call that seals a block is one trace: rpc span → block build/import → db batch', async () => {
    exporter.reset()
    const sent = await call(node.url, 'eth_sendTransaction', [
      { from: node.accounts[0]?.address, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
    ])
    expect(sent.result).toMatch(/^0x[0-9a-f]{64}$/)
    for (let i = 0; i < 100 && node.chain.head.header.number === 0n; i++) await new Promise((r) => setTimeout(r, 20))
    expect(node.chain.head.header.number).toBe(1n)

    const spans = exporter.getFinishedSpans()
    const rpc = spans.find((s) => s.name === 'eth_sendTransaction') as ReadableSpan
    expect(rpc).toBeDefined()
    expect(rpc.attributes).toMatchObject({ 'rpc.system': 'jsonrpc', 'rpc.method': 'eth_sendTransaction' })
    const traceId = rpc.spanContext().traceId
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId)
    const byId = new Map(inTrace.map((s) => [s.spanContext().spanId, s]))
    const ancestors = (s: ReadableSpan): string[] => {
      const parent = s.parentSpanContext?.spanId ? byId.get(s.parentSpanContext.spanId) : undefined
      return parent ? [parent.name, ...ancestors(parent)] : []
    }
    const imp = inTrace.find((s) => s.name === 'block.import') as ReadableSpan
    expect(imp).toBeDefined()
    expect(imp.attributes).toMatchObject({ 'block.number': 1, 'block.transactions': 1, 'block.import.status': 'head' })
    expect(ancestors(imp)).toContain('eth_sendTransaction')
    const build = inTrace.find((s) => s.name === 'block.build') as ReadableSpan
    expect(ancestors(build)).toContain('eth_sendTransaction')
    // The import's commit is a DB batch under it.
    const commit = inTrace.find((s) => s.name === 'db.batch' && ancestors(s).includes('block.import'))
    expect(commit?.attributes['db.operation.batch.size']).toBeGreaterThan(3)

    // The importer's log line, written while the call was served, carries the call's trace id.
    const imported = lines.find((l) => l.msg === 'imported new head' && l.number === 1)
    expect(imported?.trace_id).toBe(traceId)
    expect(typeof imported?.span_id).toBe('string')
  })

  it('a failing call is a span with its JSON-RPC error code; a block from another node executes under its import', async () => {
    exporter.reset()
    const bad = await call(node.url, 'eth_getBalance', ['0xnot-an-address', 'latest'])
    expect(bad.error).toBeDefined()
    const span = exporter.getFinishedSpans().find((s) => s.name === 'eth_getBalance')
    expect(span?.attributes['rpc.jsonrpc.error_code']).toBe(-32602)
    expect(span?.status.code).toBe(2) // ERROR

    // A block the importer must execute itself: sealed by another node on the same genesis.
    const config = loadConfig({
      flags: { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1', 'log.level': 'silent' },
      env: {},
    })
    const other = await startNode(config, { logger: createLogger({ level: 'silent', format: 'json' }) })
    // The other node follows this one first: a dev node finalizes every block at once, so a
    // competing block would be refused (it would revert a finalized block); one on top imports.
    const head = node.chain.head.header.number
    for (let n = 1n; n <= head; n++) {
      const block = await node.chain.mustGetBlock((await node.chain.getCanonicalHash(n)) as Uint8Array)
      expect(await other.chain.processBlock(block, { source: 'sync' })).toMatchObject({
        status: 'imported',
        head: true,
      })
    }
    let foreign: Block
    try {
      await call(other.url, 'eth_sendTransaction', [
        { from: other.accounts[1]?.address, to: '0x000000000000000000000000000000000000cafe', value: '0x2' },
      ])
      for (let i = 0; i < 100 && other.chain.head.header.number === head; i++)
        await new Promise((r) => setTimeout(r, 20))
      foreign = other.chain.head
      exporter.reset()
      const res = await node.chain.processBlock(foreign, { source: 'rpc' })
      expect(res).toMatchObject({ status: 'imported', head: true })
    } finally {
      await other.close()
    }
    const spans = exporter.getFinishedSpans()
    const imp = spans.find((s) => s.name === 'block.import')
    const exec = spans.find((s) => s.name === 'block.execute')
    expect(imp?.attributes).toMatchObject({ 'block.executed_by_producer': false, 'block.import.status': 'head' })
    expect(exec?.parentSpanContext?.spanId).toBe(imp?.spanContext().spanId)
    expect(exec?.attributes).toMatchObject({ 'block.number': Number(head) + 1, 'block.transactions': 1 })
  })
})
