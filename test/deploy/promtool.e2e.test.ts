// The alert rules under Prometheus' own tools: `promtool check rules` (syntax, templates) and
// `promtool test rules` (each alert fires on the series that should fire it, and only there).
// Skipped where promtool is absent (Debian: apt-get install prometheus; or PROMTOOL=/path).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')
const ALERTS = join(ROOT, 'deploy/prometheus/alerts')
const PROMTOOL = process.env.PROMTOOL ?? 'promtool'
const found = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' }).status === 0
if (!found)
  console.warn(`promtool not found (${PROMTOOL}): the alert rule tests are skipped (apt-get install prometheus)`)

describe.skipIf(!found)('deploy/prometheus/alerts with promtool', () => {
  it('promtool check rules cairn.rules.yml', () => {
    const r = spawnSync(PROMTOOL, ['check', 'rules', 'cairn.rules.yml'], { cwd: ALERTS, encoding: 'utf8' })
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/)
  })

  it('promtool check config: the compose Prometheus (DNS-discovered services, the rules file)', () => {
    // The container path of the rules file, pointed at the repository's copy.
    const dir = mkdtempSync(join(tmpdir(), 'cairn-promcfg-'))
    const text = readFileSync(join(ROOT, 'deploy/compose/prometheus.yml'), 'utf8').replace(
      '/etc/prometheus/alerts/cairn.rules.yml',
      join(ALERTS, 'cairn.rules.yml'),
    )
    writeFileSync(join(dir, 'prometheus.yml'), text)
    const r = spawnSync(PROMTOOL, ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' })
    rmSync(dir, { recursive: true, force: true })
    expect(r.status, r.stdout + r.stderr).toBe(0)
  })

  it('promtool test rules cairn.rules.test.yml', () => {
    const r = spawnSync(PROMTOOL, ['test', 'rules', 'cairn.rules.test.yml'], {
      cwd: ALERTS,
      encoding: 'utf8',
      timeout: 120_000,
    })
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('SUCCESS')
  }, 150_000)
})
