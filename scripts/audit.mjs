#!/usr/bin/env node
// Dependency advisories: `npm audit --json` against the registry, failing on a high or critical
// advisory unless .ci/audit-allow.json names it (GHSA id, reason, review, a date it lapses).
//
//   node scripts/audit.mjs [--allow FILE]      (AUDIT_REQUIRED=1: a registry without the advisory
//                                               endpoint fails the run instead of skipping it)
//
// Exit 0: no high/critical advisory outside the allow-list (or the endpoint is missing and
// AUDIT_REQUIRED is not set: said on stdout); 1: advisories to fix or review; 2: audit unusable.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const SEVERE = new Set(['high', 'critical'])

/** The GHSA id of an advisory URL (https://github.com/advisories/GHSA-…), else the URL itself. */
const ghsa = (url) => /GHSA-[\w-]+/.exec(url ?? '')?.[0] ?? String(url)

/**
 * What an `npm audit --json` report (npm 7+) holds at high or critical, less the allow-list's
 * unexpired entries: `{ failing: [{package, severity, advisory, title}], allowed: [...], expired: [...] }`.
 */
export function judge(report, allowList, now = new Date()) {
  const allow = new Map((allowList.advisories ?? []).map((a) => [a.id, a]))
  const failing = []
  const allowed = []
  const expired = []
  for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
    for (const via of v.via ?? []) {
      if (typeof via === 'string' || !SEVERE.has(via.severity)) continue // a transitive pointer, or below high
      const id = ghsa(via.url)
      const item = { package: name, severity: via.severity, advisory: id, title: via.title }
      const entry = allow.get(id)
      if (!entry) failing.push(item)
      else if (entry.until && new Date(entry.until) < now) expired.push(item)
      else allowed.push(item)
    }
  }
  return { failing, allowed, expired }
}

/** Whether npm's output says the registry has no advisory endpoint (a mirror without it: 404/405). */
export function endpointMissing(report) {
  return typeof report.message === 'string' && /advisories|audit/.test(report.message) && !report.vulnerabilities
}

function main() {
  const root = resolve(import.meta.dirname, '..')
  const i = process.argv.indexOf('--allow')
  const allowList = JSON.parse(readFileSync(i > 0 ? process.argv[i + 1] : join(root, '.ci/audit-allow.json'), 'utf8'))
  const r = spawnSync('npm', ['audit', '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
  let report
  try {
    report = JSON.parse(r.stdout)
  } catch {
    process.stdout.write(`npm audit: no JSON answer (exit ${r.status}): ${r.stderr.slice(0, 500)}\n`)
    return 2
  }
  if (endpointMissing(report)) {
    const why = `npm audit: the registry answered ${report.statusCode ?? '?'} (${report.message}): no advisories checked`
    process.stdout.write(`${why}\n`)
    return process.env.AUDIT_REQUIRED === '1' ? 2 : 0
  }
  const { failing, allowed, expired } = judge(report, allowList)
  for (const f of [...failing, ...expired])
    process.stdout.write(`FAIL ${f.severity} ${f.package}: ${f.title} (${f.advisory})${expired.includes(f) ? ' — its allow-list entry lapsed' : ''}\n`)
  for (const a of allowed) process.stdout.write(`allowed ${a.severity} ${a.package}: ${a.advisory} (.ci/audit-allow.json)\n`)
  const counts = report.metadata?.vulnerabilities ?? {}
  process.stdout.write(
    `npm audit: ${counts.critical ?? 0} critical, ${counts.high ?? 0} high, ${counts.moderate ?? 0} moderate, ${counts.low ?? 0} low; ${failing.length + expired.length} high/critical outside the allow-list\n`,
  )
  return failing.length + expired.length === 0 ? 0 : 1
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(main())
