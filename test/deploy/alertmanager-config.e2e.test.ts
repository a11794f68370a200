// The observability configs checked by their own tools, Debian's packages (`apt-get install
// prometheus prometheus-alertmanager rsyslog rsyslog-pgsql`; each part skips without its binary):
// Alertmanager's config with `amtool check-config`, its routing tree with `amtool config routes
// test` (who hears of which alert), Prometheus's scrape configs with `promtool check config`, and
// rsyslog's shipping config with `rsyslogd -N1`.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')
const AM = join(ROOT, 'deploy/alertmanager/alertmanager.yml')
const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0
const run = (bin: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(bin, args, { encoding: 'utf8', env, timeout: 30_000 })

describe.skipIf(!has('amtool'))('deploy/alertmanager with amtool', () => {
  it('is a valid Alertmanager config with its receivers and inhibit rules', () => {
    const r = run('amtool', ['check-config', AM])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/3 inhibit rules/)
    expect(r.stdout).toMatch(/4 receivers/)
  })

  // who hears of an alert: [labels, receivers]
  const cases: [string[], string][] = [
    [['alertname=CairnNodeDown', 'severity=critical', 'job=cairn-validators'], 'on-call,operators'],
    [['alertname=CairnTooFewPeers', 'severity=warning'], 'operators'],
    [['alertname=CairnReservesShortfall', 'severity=critical'], 'on-call,reserves-team'],
    [['alertname=CairnReservesWebhookBacklog', 'severity=warning'], 'reserves-team'],
    [['alertname=CairnArbStopped', 'severity=warning'], 'trading-desk'],
    [['alertname=SomethingElse', 'severity=warning'], 'operators'],
  ]
  it.each(cases)('routes %j to %s', (labels, receivers) => {
    const r = run('amtool', ['config', 'routes', 'test', `--config.file=${AM}`, ...labels])
    expect(r.stdout.trim(), r.stderr).toBe(receivers)
  })
})

describe.skipIf(!has('promtool'))('deploy/prometheus/prometheus.yml with promtool', () => {
  it('is valid with its rule file and an Alertmanager', () => {
    const r = run('promtool', ['check', 'config', join(ROOT, 'deploy/prometheus/prometheus.yml')])
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/)
  })
})

describe.skipIf(!has('rsyslogd'))('deploy/compose/logs/rsyslog.conf with rsyslogd', () => {
  const work = mkdtempSync(join(tmpdir(), 'cairn-rsyslog-check-'))
  afterAll(() => rmSync(work, { recursive: true, force: true }))
  const env = {
    ...process.env,
    LOGS_WORK_DIR: work,
    LOGS_SYSLOG_PORT: '5514',
    LOGS_PG_HOST: 'logs-db',
    LOGS_PG_PORT: '5432',
    LOGS_PG_DB: 'logs',
    LOGS_PG_USER: 'logs',
    LOGS_PG_PASSWORD: 'x',
  }
  it('passes rsyslogd -N1 (modules imtcp, mmjsonparse, ompgsql load)', () => {
    const r = run('rsyslogd', ['-N1', '-f', join(ROOT, 'deploy/compose/logs/rsyslog.conf')], env)
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stderr + r.stdout).not.toMatch(/error/i)
  })
  it('fails rsyslogd -N1 on a broken config (the check can fail)', () => {
    const bad = join(work, 'bad.conf')
    execFileSync('sh', ['-c', `printf 'module(load="ompgsql")\\naction(type="ompgsql" nosuchparam="1")\\n' > ${bad}`])
    const r = run('rsyslogd', ['-N1', '-f', bad], env)
    expect(r.status).not.toBe(0)
  })
})
