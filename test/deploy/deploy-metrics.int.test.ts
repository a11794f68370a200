// Every metric the deployment's alert rules (deploy/prometheus/alerts, the Kubernetes
// PrometheusRule) and Grafana dashboards (deploy/grafana: node, reserves, arbitrage) name is one the
// code exports: a running dev node's /metrics (datadir and p2p on), plus the registries of the BFT
// and proof-of-work engines, a shard's bridge and relayer, the reserves service and the arbitrage
// engine. And the PrometheusRule holds the same groups as the rules file.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apiRateLimitedCounter, createArbMetrics } from '@cairn/arbitrage'
import { createBftMetrics, createStakingMetrics } from '@cairn/consensus'
import { createPowMetrics } from '@cairn/consensus/pow'
import { createRelayerMetrics, createShardMetrics, loadConfig, type StartedNode, startNode } from '@cairn/node'
import {
  createBackupMetrics,
  createNatsEventMetrics,
  createReconciliationMetrics,
  createReservesMetrics,
  createWebhookMetrics,
} from '@cairn/reserves-service'
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const ROOT = join(import.meta.dirname, '../..')
const RULES = join(ROOT, 'deploy/prometheus/alerts/cairn.rules.yml')
const PROMETHEUS_RULE = join(ROOT, 'deploy/kubernetes/base/prometheusrule.yaml')
/** Series Prometheus makes itself, not the code. */
const PROMETHEUS_OWN = new Set(['up'])

interface RuleGroups {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[]
}

function exportedNames(text: string, into: Set<string>): void {
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line)
    if (!type?.[1]) continue
    into.add(type[1])
    if (type[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) into.add(type[1] + s)
    if (type[2] === 'summary') for (const s of ['_sum', '_count']) into.add(type[1] + s)
  }
}

/** Metric names in a PromQL expression: identifiers not followed by `(` and not label names, keywords or durations. */
function metricNames(expr: string): string[] {
  // label matchers, strings, range selectors ([5m], Grafana's [$__rate_interval]) and numbers out
  const noLabels = expr
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/"[^"]*"/g, '""')
    .replace(/\[[^\]]*\]/g, '[]')
  const words = noLabels.match(/[a-zA-Z_:][a-zA-Z0-9_:]*(?![a-zA-Z0-9_:]*\s*\()/g) ?? []
  const keywords = new Set([
    'sum',
    'min',
    'max',
    'avg',
    'count',
    'group',
    'stddev',
    'stdvar',
    'topk',
    'bottomk',
    'quantile',
    'count_values',
    'by',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'and',
    'or',
    'unless',
    'bool',
    'offset',
    'le',
    'inf',
    'Inf',
    'nan',
  ])
  // `by (instance, le)`: the label lists after by/without/on/ignoring
  const labelLists = [...noLabels.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? '').split(',').map((s) => s.trim()),
  )
  return words.filter((w) => !keywords.has(w) && !labelLists.includes(w) && !/^\d/.test(w) && !/^[smhdwy]$/.test(w))
}

function dashboardExprs(file: string): string[] {
  const dash = JSON.parse(readFileSync(file, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[]
    templating: { list: { query?: unknown }[] }
  }
  const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))
  for (const v of dash.templating.list) {
    const m = typeof v.query === 'string' ? /label_values\(([a-z0-9_]+)/.exec(v.query) : null
    if (m?.[1]) exprs.push(m[1])
  }
  return exprs
}

describe('deploy: alert rules and dashboards name exported metrics', () => {
  let node: StartedNode
  const exported = new Set<string>()
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-deploy-metrics-'))
  beforeAll(async () => {
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
    exportedNames(await (await fetch(`${node.url}/metrics`)).text(), exported)
    const services = new Registry()
    createBftMetrics(services)
    createStakingMetrics(services)
    createPowMetrics(services)
    createReservesMetrics(services)
    createWebhookMetrics(services)
    createNatsEventMetrics(services)
    createReconciliationMetrics(services)
    createBackupMetrics(services)
    createArbMetrics(services)
    createShardMetrics(services)
    createRelayerMetrics(services)
    apiRateLimitedCounter(services)
    exportedNames(await services.metrics(), exported)
  })
  afterAll(async () => {
    await node?.close()
    rmSync(datadir, { recursive: true, force: true })
  })

  it('every alert expression names only exported metrics, and every rule says what to do', () => {
    const rules = parse(readFileSync(RULES, 'utf8')) as RuleGroups
    const missing: string[] = []
    let count = 0
    for (const g of rules.groups)
      for (const r of g.rules) {
        count++
        for (const name of metricNames(r.expr))
          if (!exported.has(name) && !PROMETHEUS_OWN.has(name)) missing.push(`${name} (in ${r.alert}: ${r.expr})`)
      }
    expect(count).toBeGreaterThanOrEqual(10)
    expect(missing).toEqual([])
    const names = rules.groups.flatMap((g) => g.rules.map((r) => r.alert))
    for (const wanted of [
      'CairnHeadNotMoving',
      'CairnFinalityLagging',
      'CairnTooFewPeers',
      'CairnMissedSignatures',
      'CairnDiskFilling',
      'CairnRpcErrors',
      'CairnReservesBuildFailing',
      'CairnArbBreakerOpen',
    ])
      expect(names).toContain(wanted)
  })

  it('the Kubernetes PrometheusRule holds the same groups as deploy/prometheus/alerts/cairn.rules.yml', () => {
    const rules = parse(readFileSync(RULES, 'utf8')) as RuleGroups
    const crd = parse(readFileSync(PROMETHEUS_RULE, 'utf8')) as { kind: string; spec: RuleGroups }
    expect(crd.kind).toBe('PrometheusRule')
    expect(crd.spec).toEqual(rules)
  })

  it.each([
    'cairn-node.json',
    'cairn-reserves.json',
    'cairn-arbitrage.json',
  ])('dashboard %s: every query names only exported metrics', (file) => {
    const exprs = dashboardExprs(join(ROOT, 'deploy/grafana', file))
    expect(exprs.length).toBeGreaterThan(5)
    const missing: string[] = []
    for (const e of exprs)
      for (const name of metricNames(e)) if (!exported.has(name)) missing.push(`${name} (in: ${e})`)
    expect(missing).toEqual([])
  })

  it('the compose Prometheus loads the rules file the tests check', () => {
    const prom = parse(readFileSync(join(ROOT, 'deploy/compose/prometheus.yml'), 'utf8')) as { rule_files: string[] }
    expect(prom.rule_files).toEqual(['/etc/prometheus/alerts/cairn.rules.yml'])
    expect(readdirSync(join(ROOT, 'deploy/prometheus/alerts'))).toContain('cairn.rules.yml')
  })
})
