// The alert rules' own tests and the compose Prometheus, read as files:
// - every alert of cairn.rules.yml has a promtool case that fires it (cairn.rules.test.yml), so
//   the healthy-network test (healthy-devnet.e2e.test.ts: nothing fires) is not passed by a rule
//   that can never fire;
// - the compose Prometheus lists as static targets only services of compose.yaml: the reserves and
//   arbitrage services (compose.services.yaml) are found by DNS, so a network started without them
//   has no target down (CairnNodeDown fired for both).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const ROOT = join(import.meta.dirname, '../..')
const read = (p: string) => parse(readFileSync(join(ROOT, p), 'utf8'))

interface PromConfig {
  scrape_configs: {
    job_name: string
    static_configs?: { targets: string[] }[]
    dns_sd_configs?: { names: string[]; type: string; port: number }[]
  }[]
}

describe('alert rules', () => {
  it('every alert has a promtool case in which it fires', () => {
    const rules = read('deploy/prometheus/alerts/cairn.rules.yml') as { groups: { rules: { alert?: string }[] }[] }
    const tests = read('deploy/prometheus/alerts/cairn.rules.test.yml') as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[]
    }
    const fired = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    )
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r.alert] : [])))
    expect(alerts.length).toBeGreaterThanOrEqual(10)
    expect(alerts.filter((a) => !fired.has(a))).toEqual([])
  })
})

describe('compose Prometheus', () => {
  const compose = read('deploy/compose/compose.yaml') as { services: Record<string, unknown> }
  const services = read('deploy/compose/compose.services.yaml') as {
    services: Record<string, { ports?: string[] }>
  }
  const prom = read('deploy/compose/prometheus.yml') as PromConfig

  it('static targets are services of compose.yaml alone (up without compose.services.yaml)', () => {
    const hosts = prom.scrape_configs.flatMap((c) =>
      (c.static_configs ?? []).flatMap((s) => s.targets.map((t) => t.split(':')[0] as string)),
    )
    expect(hosts.length).toBeGreaterThanOrEqual(5)
    expect(hosts.filter((h) => !(h in compose.services))).toEqual([])
  })

  it('the reserves and arbitrage services are found by DNS on their API ports', () => {
    const dns = prom.scrape_configs.flatMap((c) => (c.dns_sd_configs ?? []).map((d) => ({ job: c.job_name, ...d })))
    expect(dns.map((d) => d.job).sort()).toEqual(['cairn-arbitrage', 'cairn-reserves'])
    for (const d of dns) {
      expect(d.type).toBe('A')
      for (const name of d.names) {
        expect(Object.keys(services.services)).toContain(name)
        expect(name in compose.services).toBe(false)
        // The port the service publishes (127.0.0.1:8560:8560) is the one scraped.
        expect(services.services[name]?.ports?.[0]).toMatch(new RegExp(`:${d.port}$`))
      }
    }
  })
})
