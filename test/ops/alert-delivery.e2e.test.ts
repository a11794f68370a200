/**
 * An alert that reaches someone (issue 71), on real processes: a 4-validator devnet (`cairn start`
 * each), Prometheus (Debian's `prometheus`) scraping them with the shipped rules, Alertmanager
 * (Debian's `prometheus-alertmanager`) with the shipped deploy/alertmanager/alertmanager.yml, and
 * the shipped webhook receiver (deploy/alertmanager/webhook-log.mjs) as the person's pager. A
 * validator is stopped: CairnNodeDown fires and is delivered to the on-call and operators
 * receivers; a symptom of that same node is inhibited (not delivered) while another node's is;
 * the validator is started again and the resolution is delivered.
 *
 * Test-time changes to the shipped files, and only these: the receivers' URL is the local
 * webhook's, group_wait and group_interval are 1 s and 2 s (30 s and 5 m shipped), CairnNodeDown
 * waits 2 s (2 m shipped), Prometheus scrapes and evaluates every second and resends every second.
 * ~1–2 minutes on a loaded 2-core machine: `npm run test:alerts` (CAIRN_E2E_ALERTS=1), not in `npm test`.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  CairnProcesses,
  freePort,
  initDevnet,
  REPO_ROOT,
  startDevnetNodes,
  waitFor,
} from '../../packages/node/test/e2e/harness.ts'

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0
const ENABLED = process.env.CAIRN_E2E_ALERTS === '1'
const ready = ENABLED && has('prometheus') && has('prometheus-alertmanager')
if (ENABLED && !ready) console.warn('skipping the alert delivery test: no prometheus or prometheus-alertmanager binary')

const dir = mkdtempSync(join(tmpdir(), 'cairn-alerts-'))
const procs = new CairnProcesses()
const others: ChildProcess[] = []
afterAll(() => {
  procs.killAll()
  for (const p of others) if (p.exitCode === null) p.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

/** A long-running helper process; its stdout lines (JSON) collected. */
function startProcess(cmd: string, args: string[]): { lines: Record<string, unknown>[]; out: () => string } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  others.push(child)
  const lines: Record<string, unknown>[] = []
  let out = ''
  let partial = ''
  child.stdout.on('data', (d: Buffer) => {
    out += String(d)
    partial += String(d)
    const parts = partial.split('\n')
    partial = parts.pop() ?? ''
    for (const l of parts) if (l.startsWith('{')) lines.push(JSON.parse(l))
  })
  child.stderr.on('data', (d: Buffer) => {
    out += String(d)
  })
  return { lines, out: () => out.slice(-4000) }
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  if (!res.ok) throw new Error(`${url}: ${res.status}`)
  return (await res.json()) as T
}

describe.skipIf(!ready)('alert delivery through Prometheus and Alertmanager', () => {
  it('delivers CairnNodeDown for a stopped validator, inhibits its symptoms, then delivers the resolution', async () => {
    const { base } = await initDevnet(join(dir, 'devnet'))
    const devnet = startDevnetNodes(procs, join(dir, 'devnet'), base)
    await devnet.finalizedAtLeast(2n, 120_000, 'the devnet finalizing')

    // the pager: the shipped webhook receiver
    const hookPort = await freePort()
    const hook = startProcess(process.execPath, [
      join(REPO_ROOT, 'deploy/alertmanager/webhook-log.mjs'),
      '--port',
      String(hookPort),
      '--host',
      '127.0.0.1',
    ])
    await waitFor(async () => (await fetch(`http://127.0.0.1:${hookPort}/health`)).ok, 20_000, 'the webhook', hook.out)

    // Alertmanager with the shipped config (receivers pointed here, short group timers)
    const amPort = await freePort()
    const am = readFileSync(join(REPO_ROOT, 'deploy/alertmanager/alertmanager.yml'), 'utf8')
      .replaceAll('http://alert-webhook:9095', `http://127.0.0.1:${hookPort}`)
      .replace(/group_wait: \S+/g, 'group_wait: 1s')
      .replace(/group_interval: \S+/g, 'group_interval: 2s')
    writeFileSync(join(dir, 'alertmanager.yml'), am)
    mkdirSync(join(dir, 'am-data'))
    const amProc = startProcess('prometheus-alertmanager', [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ])
    const amUrl = `http://127.0.0.1:${amPort}`
    await waitFor(async () => (await fetch(`${amUrl}/-/ready`)).ok, 30_000, 'Alertmanager ready', amProc.out)

    // Prometheus with the shipped rules (CairnNodeDown after 2 s instead of 2 m)
    const rules = readFileSync(join(REPO_ROOT, 'deploy/prometheus/alerts/cairn.rules.yml'), 'utf8').replace(
      /(- alert: CairnNodeDown\n\s+expr: [^\n]+\n\s+for: )2m/,
      '$12s',
    )
    expect(rules).toMatch(/alert: CairnNodeDown\n\s+expr: [^\n]+\n\s+for: 2s/)
    writeFileSync(join(dir, 'cairn.rules.yml'), rules)
    const targets = [0, 1, 2, 3].map((k) => `'127.0.0.1:${base + k}'`)
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 900ms }',
        `rule_files: ['${join(dir, 'cairn.rules.yml')}']`,
        `alerting: { alertmanagers: [ { static_configs: [ { targets: ['127.0.0.1:${amPort}'] } ] } ] }`,
        `scrape_configs: [ { job_name: cairn-validators, static_configs: [ { targets: [${targets.join(', ')}] } ] } ]`,
        '',
      ].join('\n'),
    )
    const promPort = await freePort()
    const promProc = startProcess('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'prom-data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--rules.alert.resend-delay=1s',
    ])
    const promUrl = `http://127.0.0.1:${promPort}`
    type Vector = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }
    await waitFor(
      async () => {
        const up = await getJson<Vector>(`${promUrl}/api/v1/query?query=up`)
        return up.data.result.filter((r) => r.value[1] === '1').length === 4
      },
      60_000,
      'Prometheus scraping the four validators',
      promProc.out,
    )

    // stop validator 4
    const downInstance = `127.0.0.1:${base + 3}`
    const node4 = devnet.nodes[3]?.child as ChildProcess
    node4.kill('SIGTERM')
    const delivered = (status: string, alertname: string, instance: string) =>
      hook.lines.filter((l) => l.status === status && l.alertname === alertname && l.instance === instance)
    await waitFor(
      async () => delivered('firing', 'CairnNodeDown', downInstance).length >= 2,
      60_000,
      'CairnNodeDown delivered to the on-call and operators receivers',
      () => `${JSON.stringify(hook.lines)}\n${amProc.out()}`,
    )
    const firing = delivered('firing', 'CairnNodeDown', downInstance)
    expect(new Set(firing.map((l) => l.receiver))).toEqual(new Set(['on-call', 'operators']))
    expect(firing.find((l) => l.receiver === 'on-call')).toMatchObject({ severity: 'critical', path: '/on-call' })
    // only the stopped node is down
    expect(hook.lines.filter((l) => l.alertname === 'CairnNodeDown' && l.instance !== downInstance)).toEqual([])

    // inhibition: the stopped node's own symptom is held back, another node's is delivered
    const symptom = (instance: string) => ({
      labels: { alertname: 'CairnTooFewPeers', severity: 'warning', job: 'cairn-validators', instance },
      annotations: { summary: `${instance}: too few peers` },
    })
    const otherInstance = `127.0.0.1:${base}`
    const post = await fetch(`${amUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([symptom(downInstance), symptom(otherInstance)]),
    })
    expect(post.status).toBe(200)
    await waitFor(
      async () => delivered('firing', 'CairnTooFewPeers', otherInstance).length >= 1,
      30_000,
      "the other node's symptom delivered",
      () => JSON.stringify(hook.lines),
    )
    type AmAlert = { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }
    const held = await getJson<AmAlert[]>(
      `${amUrl}/api/v2/alerts?filter=${encodeURIComponent('alertname="CairnTooFewPeers"')}`,
    )
    const mine = held.find((a) => a.labels.instance === downInstance)
    expect(mine?.status.state).toBe('suppressed')
    expect(mine?.status.inhibitedBy.length).toBeGreaterThan(0)
    expect(held.find((a) => a.labels.instance === otherInstance)?.status.state).toBe('active')
    expect(delivered('firing', 'CairnTooFewPeers', downInstance)).toEqual([])

    // start validator 4 again: the resolution is delivered
    procs.start(['start', '--config', join(dir, 'devnet', 'node-4.toml')])
    await waitFor(
      async () => delivered('resolved', 'CairnNodeDown', downInstance).length >= 1,
      90_000,
      'CairnNodeDown resolved and delivered',
      () => `${JSON.stringify(hook.lines.slice(-5))}\n${devnet.out()}`,
    )
    const resolved = delivered('resolved', 'CairnNodeDown', downInstance)[0] as Record<string, unknown>
    expect(Date.parse(String(resolved.endsAt))).toBeGreaterThan(Date.parse(String(resolved.startsAt)))
  }, 420_000)
})
