import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { type StartedNode, startNode } from '../../src/node.ts'

const ROOT = join(import.meta.dirname, '../../../..')
const DASHBOARD = join(ROOT, 'deploy/grafana/cairn-node.json')

/** Every PromQL expression of a Grafana dashboard. */
function dashboardQueries(): string[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[]
    templating: { list: { query?: unknown }[] }
  }
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))
  for (const v of dash.templating.list)
    if (typeof v.query === 'string' && v.query.includes('cairn_')) exprs.push(v.query)
  return exprs
}

/**
 * Names in a Prometheus text exposition: every declared family (`# TYPE`, even one whose labelled
 * series have no sample yet) and every sample name (histograms give _bucket, _sum, _count).
 */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line)
    if (type?.[1]) {
      names.add(type[1])
      if (type[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(type[1] + s)
      continue
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{| )/.exec(line)
    if (m?.[1]) names.add(m[1])
  }
  return names
}

describe('deploy/grafana dashboard', () => {
  let node: StartedNode
  beforeAll(async () => {
    const config = loadConfig({
      flags: { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1', 'log.level': 'silent' },
      env: {},
    })
    node = await startNode(config, { logger: silentLogger })
    // one transaction, so that the block and RPC histograms and counters have samples
    const res = await fetch(node.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'eth_sendTransaction',
        params: [{ from: node.accounts[0]?.address, to: '0x000000000000000000000000000000000000beef', value: '0x1' }],
      }),
    })
    expect(((await res.json()) as { result?: string }).result).toMatch(/^0x[0-9a-f]{64}$/)
    for (let i = 0; i < 100 && node.chain.head.header.number === 0n; i++) await new Promise((r) => setTimeout(r, 50))
  })
  afterAll(async () => {
    await node?.close()
  })

  it('every query names only metrics the node exports', async () => {
    const text = await (await fetch(`${node.url}/metrics`)).text()
    const exported = exportedNames(text)
    const queries = dashboardQueries()
    expect(queries.length).toBeGreaterThan(10)
    const missing: string[] = []
    for (const q of queries) {
      for (const name of q.match(/\bcairn_[a-z0-9_]+/g) ?? [])
        if (!exported.has(name)) missing.push(`${name} (in: ${q})`)
    }
    expect(missing).toEqual([])
  })

  it('the metrics the issue names are exported, with values that move when blocks are made', async () => {
    const text = await (await fetch(`${node.url}/metrics`)).text()
    for (const name of [
      'cairn_chain_head_block',
      'cairn_chain_head_timestamp_seconds',
      'cairn_blocks_imported_total',
      'cairn_block_import_seconds_bucket',
      'cairn_transactions_processed_total',
      'cairn_txpool_pending',
      'cairn_rpc_requests_total',
      'cairn_build_info',
    ]) {
      expect(text).toContain(name)
    }
    const head = /^cairn_chain_head_block (\d+)/m.exec(text)?.[1]
    expect(Number(head)).toBe(Number(node.chain.head.header.number))
    expect(Number(head)).toBeGreaterThanOrEqual(1)
  })
})
