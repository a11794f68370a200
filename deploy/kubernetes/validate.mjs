#!/usr/bin/env node
// Validates Kubernetes manifests against Kubernetes' OpenAPI schemas, with kubernetes-models
// (https://github.com/tommy351/kubernetes-models-ts: classes generated from the API server's
// OpenAPI spec, validated with ajv: types, required fields, enums, formats; like kubeconform without
// -strict, a field the schema does not know is not flagged) and @kubernetes-models/prometheus-operator
// for ServiceMonitor and PrometheusRule (the CRDs' schemas).
//
//   kubectl kustomize deploy/kubernetes/overlays/devnet | node deploy/kubernetes/validate.mjs
//   node deploy/kubernetes/validate.mjs rendered.yaml [more.yaml …]
//
// MODELS_DIR: a directory whose node_modules holds the two packages (default: this repository's);
// they are not among Cairn's dependencies: `npm install --prefix /tmp/k8s-validate kubernetes-models
// @kubernetes-models/prometheus-operator`. Exit 0 when every document is valid, 1 otherwise, 2 when
// the validator is missing.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const base = resolve(process.env.MODELS_DIR ?? join(import.meta.dirname, '../..'))
const modules = join(base, 'node_modules')
const yaml = await import(pathToFileURL(createRequire(import.meta.url).resolve('yaml')).href)

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion]
  const pkg = group === 'monitoring.coreos.com' ? '@kubernetes-models/prometheus-operator' : 'kubernetes-models'
  const path = group ? `${pkg}/${group}/${version}/${kind}` : `${pkg}/${version}/${kind}`
  // the packages export ESM only ("import" conditions): found by path, not require.resolve
  const file = join(modules, path + '.js')
  if (!existsSync(file)) return null
  const mod = await import(pathToFileURL(file).href)
  return mod[kind] ?? mod.default?.[kind] ?? mod.default
}

if (!existsSync(join(modules, 'kubernetes-models/package.json'))) {
  process.stderr.write(
    `error: kubernetes-models not found from ${base} (npm install --prefix DIR kubernetes-models @kubernetes-models/prometheus-operator, then MODELS_DIR=DIR)\n`,
  )
  process.exit(2)
}
const inputs = process.argv.length > 2 ? process.argv.slice(2).map((f) => [f, readFileSync(f, 'utf8')]) : [['stdin', readFileSync(0, 'utf8')]]
let bad = 0
let checked = 0
for (const [name, text] of inputs) {
  for (const doc of yaml.parseAllDocuments(text)) {
    const obj = doc.toJS()
    if (!obj) continue
    const what = `${name}: ${obj.kind} ${obj.metadata?.name ?? '?'}`
    // kustomize wraps a Secret's base64 over lines, which the API server accepts (Go's decoder skips
    // newlines) and the schema's "byte" format does not: compared without them.
    if (obj.kind === 'Secret' && obj.data)
      for (const k of Object.keys(obj.data)) obj.data[k] = String(obj.data[k]).replace(/\s+/g, '')
    const Model = await modelFor(obj.apiVersion, obj.kind)
    if (!Model) {
      process.stdout.write(`FAIL ${what}: no schema for ${obj.apiVersion} ${obj.kind}\n`)
      bad++
      continue
    }
    try {
      new Model(obj).validate()
      process.stdout.write(`ok   ${what}\n`)
    } catch (err) {
      process.stdout.write(`FAIL ${what}: ${err.message}\n`)
      bad++
    }
    checked++
  }
}
process.stdout.write(`${checked} documents, ${bad} invalid\n`)
process.exit(bad === 0 && checked > 0 ? 0 : 1)
