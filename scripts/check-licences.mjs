#!/usr/bin/env node
// The licence check of the dependency tree: every package in package-lock.json (what `npm ci`
// installs) must carry a licence of the reviewed allow-list (.ci/licences-allow.json), or be named
// there with the reason. The licence is the lockfile's (npm copies it from the package), else the
// installed package.json's `license` or legacy `licenses`. An SPDX expression passes when one of
// its OR-alternatives has every AND-term allowed.
//
//   node scripts/check-licences.mjs [--allow FILE] [--lock FILE]
//
// Exit 0 when every package passes, 1 otherwise (each offender listed with its path and licence).
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** Whether an SPDX expression is allowed: some OR-alternative with all its AND-terms in `ok`. */
export function expressionAllowed(expr, ok) {
  const clean = expr.replace(/[()]/g, ' ').trim()
  if (!clean) return false
  return clean.split(/\s+OR\s+/i).some((alt) =>
    alt
      .split(/\s+AND\s+/i)
      .map((t) => t.trim().replace(/\+$/, ''))
      .every((t) => ok.has(t)),
  )
}

/** The packages of a lockfile outside the allow-list, as `path: licence` lines; `read(path)` gives an installed package.json. */
export function offenders(lock, allow, read = () => null) {
  const ok = new Set(allow.licences)
  const named = Object.keys(allow.packages ?? {})
  const isNamed = (name) => named.some((n) => (n.endsWith('/*') ? name.startsWith(n.slice(0, -1)) : n === name))
  const bad = []
  let checked = 0
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === '' || entry.link || !path.includes('node_modules/')) continue // the root and the workspaces
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)
    checked++
    const licence = licenceOf(entry, read(path))
    if (licence && expressionAllowed(licence, ok)) continue
    if (isNamed(name)) continue
    bad.push(`${path}: ${licence ?? 'no licence declared'}${entry.dev ? ' (dev)' : ''}`)
  }
  return { checked, bad }
}

function licenceOf(entry, json) {
  if (typeof entry.license === 'string') return entry.license
  if (!json) return null
  if (typeof json.license === 'string') return json.license
  if (json.license?.type) return json.license.type
  if (Array.isArray(json.licenses)) return json.licenses.map((l) => l.type ?? l).join(' OR ')
  return null
}

function main() {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(name)
    return i > 0 ? process.argv[i + 1] : fallback
  }
  const root = resolve(import.meta.dirname, '..')
  const lockFile = resolve(arg('--lock', join(root, 'package-lock.json')))
  const allow = JSON.parse(readFileSync(resolve(arg('--allow', join(root, '.ci/licences-allow.json'))), 'utf8'))
  const read = (path) => {
    const f = join(dirname(lockFile), path, 'package.json')
    return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null
  }
  const { checked, bad } = offenders(JSON.parse(readFileSync(lockFile, 'utf8')), allow, read)
  for (const line of bad) process.stdout.write(`FAIL ${line}\n`)
  process.stdout.write(
    `licences: ${checked} packages checked, ${bad.length} outside the allow-list${bad.length ? ' (.ci/licences-allow.json: review and name them, or drop the dependency)' : ''}\n`,
  )
  return bad.length === 0 ? 0 : 1
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(main())
