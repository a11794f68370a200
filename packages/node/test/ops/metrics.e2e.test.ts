// `/metrics` of a real `cairn start` process: parses, names what the operations issue lists, and
// moves when blocks are made; the same registry on the separate --metrics.port listener.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningNode, rpc, startCli } from '../cli/run-cli.ts'
import { freePort } from '../e2e/harness.ts'
import { type Family, parsePrometheus, sampleValue } from './prom-text.ts'

/** The metrics the operations issue requires (§3), with their Prometheus type. */
const REQUIRED: Record<string, string> = {
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_gc_duration_seconds: 'histogram',
  process_open_fds: 'gauge',
  cairn_datadir_free_bytes: 'gauge',
  cairn_chain_head_block: 'gauge',
  cairn_chain_head_timestamp_seconds: 'gauge',
  cairn_blocks_imported_total: 'counter',
  cairn_block_import_seconds: 'histogram',
  cairn_block_transactions: 'histogram',
  cairn_block_size_bytes: 'histogram',
  cairn_block_gas_used: 'histogram',
  cairn_transactions_processed_total: 'counter',
  cairn_txpool_pending: 'gauge',
  cairn_txpool_queued: 'gauge',
  cairn_txpool_rejected_total: 'counter',
  cairn_rpc_requests_total: 'counter',
  cairn_rpc_request_duration_seconds: 'histogram',
  cairn_rpc_active_connections: 'gauge',
  cairn_build_info: 'gauge',
  cairn_state_node_cache_hits_total: 'counter',
  cairn_state_node_cache_misses_total: 'counter',
  cairn_state_node_cache_bytes: 'gauge',
  cairn_state_node_cache_entries: 'gauge',
}

const datadir = mkdtempSync(join(tmpdir(), 'cairn-metrics-e2e-'))
let node: RunningNode
let metricsPort: number

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(url)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
  return parsePrometheus(await res.text())
}

beforeAll(async () => {
  metricsPort = await freePort()
  node = await startCli(['--dev', '--datadir', datadir, '--http.port', '0', '--metrics.port', String(metricsPort)])
})
afterAll(async () => {
  await node?.stop()
  rmSync(datadir, { recursive: true, force: true })
})

describe('/metrics of a running node', () => {
  it('parses and carries every required name with its type, on the RPC port and the metrics port', async () => {
    for (const url of [`${node.url}/metrics`, `http://127.0.0.1:${metricsPort}/metrics`]) {
      const families = await scrape(url)
      const wrong = Object.entries(REQUIRED)
        .filter(([name, type]) => families.get(name)?.type !== type)
        .map(([name, type]) => `${name}: want ${type}, got ${families.get(name)?.type ?? 'nothing'}`)
      expect(wrong, url).toEqual([])
      // Cairn's own families under cairn_; process and Node.js ones under prom-client's standard names
      for (const f of families.values()) expect(f.name, 'prefix').toMatch(/^(cairn_|process_|nodejs_)/)
    }
    const health = await fetch(`http://127.0.0.1:${metricsPort}/health`)
    expect(health.status).toBe(200)
    // The metrics port serves metrics and health only, not JSON-RPC.
    const post = await fetch(`http://127.0.0.1:${metricsPort}/`, { method: 'POST', body: '{}' })
    expect(post.status).toBe(405)
  })

  it('says which build runs: version and the checkout commit', async () => {
    const families = await scrape(`${node.url}/metrics`)
    const info = families.get('cairn_build_info')?.samples[0]
    expect(info?.value).toBe(1)
    expect(info?.labels.commit).toBe(execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim())
    expect(info?.labels.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(sampleValue(families, 'cairn_datadir_free_bytes')).toBeGreaterThan(0)
    expect(sampleValue(families, 'process_open_fds')).toBeGreaterThan(5)
  })

  it('head, blocks imported, transactions processed and RPC requests move when blocks are made', async () => {
    const before = await scrape(`${node.url}/metrics`)
    const accounts = (await rpc(node.url, 'eth_accounts')) as string[]
    const n = 3
    const hashes: string[] = []
    for (let i = 0; i < n; i++) {
      hashes.push(
        (await rpc(node.url, 'eth_sendTransaction', [
          { from: accounts[i], to: '0x000000000000000000000000000000000000beef', value: '0x1' },
        ])) as string,
      )
    }
    // Instant sealing may put several transactions in one block: wait until every one is mined.
    for (const hash of hashes) {
      for (let tries = 0; (await rpc(node.url, 'eth_getTransactionReceipt', [hash])) === null; tries++) {
        if (tries > 200) throw new Error(`transaction ${hash} not mined after 10 s`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    await rpc(node.url, 'eth_no_such_method').catch(() => {})
    const head = BigInt((await rpc(node.url, 'eth_blockNumber')) as string)
    const after = await scrape(`${node.url}/metrics`)

    const delta = (name: string, labels: Record<string, string> = {}) =>
      (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0)
    expect(sampleValue(after, 'cairn_chain_head_block')).toBe(Number(head))
    // At least one block (instant sealing may put several transactions in one block).
    const blocks = delta('cairn_chain_head_block')
    expect(blocks).toBeGreaterThanOrEqual(1)
    expect(delta('cairn_blocks_imported_total', { status: 'head' })).toBe(blocks)
    expect(delta('cairn_block_import_seconds_count')).toBe(blocks)
    expect(delta('cairn_block_transactions_sum')).toBe(n)
    expect(delta('cairn_transactions_processed_total')).toBe(n)
    expect(delta('cairn_block_gas_used_sum')).toBe(n * 21_000)
    expect(delta('cairn_rpc_requests_total', { method: 'eth_sendTransaction', code: '0' })).toBe(n)
    expect(delta('cairn_rpc_request_duration_seconds_count', { method: 'eth_sendTransaction' })).toBe(n)
    expect(sampleValue(after, 'cairn_chain_head_timestamp_seconds')).toBeGreaterThan(1_600_000_000)
    // The blocks' new trie nodes went into the node ring (`--cache.state`, on by default on a datadir).
    expect(delta('cairn_state_node_cache_entries')).toBeGreaterThan(0)
    expect(delta('cairn_state_node_cache_bytes')).toBeGreaterThan(0)
    // An unknown method is counted under "unknown", never under its own name.
    expect(delta('cairn_rpc_requests_total', { method: 'unknown', code: '-32601' })).toBe(1)
    const labels = [...(after.get('cairn_rpc_requests_total')?.samples ?? [])].map((s) => s.labels.method)
    expect(labels).not.toContain('eth_no_such_method')
  })
})
