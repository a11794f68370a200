import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apiRateLimitedCounter, createArbMetrics } from '@cairn/arbitrage'
import { createBftMetrics, createStakingMetrics } from '@cairn/consensus'
import { createGhostdagMetrics } from '@cairn/consensus/ghostdag'
import { createPowMetrics } from '@cairn/consensus/pow'
import { createRemoteSignerMetrics, createSignerServerMetrics } from '@cairn/consensus/privval'
import { createHsmMetrics, createRemoteTxSignerMetrics } from '@cairn/keys'
import { createP2pMetrics } from '@cairn/p2p'
import {
  createBackupMetrics,
  createComplianceMetrics,
  createLedgerMetrics,
  createLedgerNatsMetrics,
  createNatsBuildMetrics,
  createNatsEventMetrics,
  createReconciliationMetrics,
  createReservesMetrics,
  createWebhookMetrics,
} from '@cairn/reserves-service'
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { Gateway } from '../../src/gateway/gateway.ts'
import { createRelayerMetrics } from '../../src/gateway/relayer.ts'
import { type StartedNode, startNode } from '../../src/node.ts'
import { createReadThreadMetrics } from '../../src/rpc-threads/pool-metrics.ts'
import { createShardMetrics } from '../../src/setup/shard-bridge.ts'
import { rpc } from '../cli/run-cli.ts'

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
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-dashboard-'))
  beforeAll(async () => {
    // A datadir (not --ephemeral): the datadir disk metrics exist only with one. P2p on (loopback,
    // a free port, no DHT): the dashboard's p2p row queries its metrics.
    const config = loadConfig({
      flags: {
        dev: true,
        datadir,
        'http.port': 0,
        'http.addr': '127.0.0.1',
        'log.level': 'silent',
        'p2p.enabled': true,
        'p2p.port': 0,
        'p2p.addr': '127.0.0.1',
        'p2p.dht': false,
      },
      env: {},
    })
    node = await startNode(config, { logger: silentLogger })
    // one transaction, so that the block and RPC histograms and counters have samples
    const hash = await rpc(node.url, 'eth_sendTransaction', [
      { from: node.accounts[0]?.address, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
    ])
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/)
    for (let i = 0; i < 100 && node.chain.head.header.number === 0n; i++) await new Promise((r) => setTimeout(r, 50))
  })
  afterAll(async () => {
    await node?.close()
    rmSync(datadir, { recursive: true, force: true })
  })

  it('every query names only metrics the node exports', async () => {
    const text = await (await fetch(`${node.url}/metrics`)).text()
    const exported = exportedNames(text)
    // The BFT row: a dev node runs no BFT engine; its metrics are the ones createBftMetrics
    // registers (what a `--engine bft` node exports beside the node's).
    const bft = new Registry()
    createBftMetrics(bft)
    createStakingMetrics(bft)
    // The sharding row: a shard node's bridge metrics and the relayer's (devnet start's /metrics).
    createShardMetrics(bft)
    createRelayerMetrics(bft)
    for (const name of exportedNames(await bft.metrics())) exported.add(name)
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

  it('every metric the docs and READMEs name is exported (the node, the reserves service for cairn_reserves_*, the arbitrage engine for cairn_arb_*, p2p for cairn_p2p_*, the BFT engine for cairn_bft_*)', async () => {
    const exported = exportedNames(await (await fetch(`${node.url}/metrics`)).text())
    const reserves = new Registry()
    createReservesMetrics(reserves)
    // the reserves service's webhooks (created by the service beside its own)
    createWebhookMetrics(reserves)
    createNatsEventMetrics(reserves)
    // the NATS build queue (--queue.nats-url)
    createNatsBuildMetrics(reserves)
    createReconciliationMetrics(reserves)
    // and its ledger (API and NATS), compliance and backups
    createLedgerMetrics(reserves)
    createLedgerNatsMetrics(reserves)
    createComplianceMetrics(reserves)
    createBackupMetrics(reserves)
    createArbMetrics(reserves)
    apiRateLimitedCounter(reserves)
    // p2p's metrics also from the p2p package's own registry function (the node above has them too)
    createP2pMetrics(reserves)
    // so are the BFT engine's (engine = "bft"): from the consensus package's, and staking's
    createBftMetrics(reserves)
    createStakingMetrics(reserves)
    // a validator's remote signer client, and `cairn signer serve`'s own
    createRemoteSignerMetrics(reserves)
    createSignerServerMetrics(reserves)
    // a validator key on a PKCS#11 token (bft.signer kind hsm)
    createHsmMetrics(reserves)
    // a product's transaction key on the remote signer (reserves and arbitrage --remote-signer)
    createRemoteTxSignerMetrics(reserves)
    // and the RPC read threads' (--rpc.threads; none on this --ephemeral node)
    createReadThreadMetrics(reserves)
    // a proof-of-work node's (engine = "pow"), and `cairn gateway`'s (made with its counters at 0)
    createPowMetrics(reserves)
    // GhostDAG's (cairn_ghostdag_*, fed by DagView; the engine = "ghostdag" node is not wired yet)
    createGhostdagMetrics(reserves)
    new Gateway(
      { shards: [{ id: 0, url: node.url }], host: '127.0.0.1', port: 0 },
      { logger: silentLogger, metrics: reserves },
    )
    // a shard node's bridge metrics (config.cairn.shard) and the relayer's (cairn relayer, devnet start)
    createShardMetrics(reserves)
    createRelayerMetrics(reserves)
    for (const name of exportedNames(await reserves.metrics())) exported.add(name)
    const missing: string[] = []
    // Names of that shape that are not metrics: the reserves Python SDK's package.
    const NOT_METRICS = new Set(['cairn_reserves'])
    for (const file of docFiles()) {
      const text = readFileSync(file, 'utf8')
      // a name ending in `_` is a family prefix (`cairn_outbound_*`): some exported name must start with it
      // (`cairn_getCommit` and kin are RPC methods, not metrics: a name followed by a capital is skipped)
      for (const name of new Set(text.match(/\bcairn_[a-z0-9_]+(?![A-Za-z0-9])/g) ?? [])) {
        if (NOT_METRICS.has(name)) continue
        const ok = name.endsWith('_') ? [...exported].some((e) => e.startsWith(name)) : exported.has(name)
        if (!ok) missing.push(`${name} (in ${file.slice(ROOT.length + 1)})`)
      }
    }
    expect(missing).toEqual([])
  })
})

/** README.md, docs/**, deploy/README.md and every package README. */
function docFiles(): string[] {
  const out = [join(ROOT, 'README.md'), join(ROOT, 'deploy/README.md')]
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory()) walk(join(dir, e.name))
      else if (e.name.endsWith('.md')) out.push(join(dir, e.name))
  }
  walk(join(ROOT, 'docs'))
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    const readme = join(ROOT, 'packages', pkg, 'README.md')
    if (existsSync(readme)) out.push(readme)
  }
  return out
}
