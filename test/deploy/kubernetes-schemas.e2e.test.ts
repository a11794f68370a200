// Every manifest of deploy/kubernetes (the devnet overlay as `kubectl kustomize` renders it, with
// throw-away keys and genesis) validates against Kubernetes' OpenAPI schemas and the Prometheus
// Operator's CRDs, with deploy/kubernetes/validate.mjs (kubernetes-models). Skipped without kubectl
// (its kustomize) or without kubernetes-models (MODELS_DIR=dir whose node_modules holds it).
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')
const modelsDir = process.env.MODELS_DIR ?? ROOT
const haveKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0
const haveModels = existsSync(join(modelsDir, 'node_modules/kubernetes-models/package.json'))
if (!haveKubectl || !haveModels)
  console.warn(
    `kubernetes manifests not validated: ${!haveKubectl ? 'no kubectl' : ''} ${!haveModels ? 'no kubernetes-models (npm install --prefix DIR kubernetes-models @kubernetes-models/prometheus-operator; MODELS_DIR=DIR)' : ''}`,
  )

const tmp = mkdtempSync(join(tmpdir(), 'cairn-k8s-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe.skipIf(!haveKubectl || !haveModels)('deploy/kubernetes against the OpenAPI schemas', () => {
  it('the devnet overlay renders and every document validates; a broken one does not', () => {
    // a copy of the tree with placeholder keys and genesis where make-devnet.sh writes real ones
    cpSync(join(ROOT, 'deploy/kubernetes'), join(tmp, 'kubernetes'), { recursive: true })
    const gen = join(tmp, 'kubernetes/overlays/devnet/generated')
    rmSync(gen, { recursive: true, force: true })
    mkdirSync(gen)
    writeFileSync(join(gen, 'genesis.json'), '{"config":{"chainId":1337}}\n')
    writeFileSync(
      join(gen, 'bootnodes.env'),
      'bootnodes=/dns4/cairn-validator-0.cairn-validators/tcp/30303/p2p/16Uiu2\n',
    )
    for (let k = 0; k < 4; k++)
      for (const f of ['node', 'validator']) writeFileSync(join(gen, `validator-${k}.${f}.key`), `${'ab'.repeat(32)}\n`)
    const rendered = spawnSync('kubectl', ['kustomize', join(tmp, 'kubernetes/overlays/devnet')], { encoding: 'utf8' })
    expect(rendered.status, rendered.stderr).toBe(0)
    const file = join(tmp, 'rendered.yaml')
    writeFileSync(file, rendered.stdout)
    const validate = (f: string) =>
      spawnSync(process.execPath, [join(ROOT, 'deploy/kubernetes/validate.mjs'), f], {
        encoding: 'utf8',
        env: { ...process.env, MODELS_DIR: modelsDir },
      })
    const ok = validate(file)
    expect(ok.status, ok.stdout + ok.stderr).toBe(0)
    for (const kind of [
      'StatefulSet',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'NetworkPolicy',
      'ServiceMonitor',
      'PrometheusRule',
      'Secret',
    ])
      expect(ok.stdout).toMatch(new RegExp(`^ok .*: ${kind} `, 'm'))
    const broken = join(tmp, 'broken.yaml')
    writeFileSync(broken, rendered.stdout.replace('podManagementPolicy: Parallel', 'podManagementPolicy: 3'))
    const bad = validate(broken)
    expect(bad.status).toBe(1)
    expect(bad.stdout).toMatch(/FAIL .*StatefulSet cairn-validator/)
  }, 60_000)

  it('the services (reserves, arbitrage) render and every document validates', () => {
    const rendered = spawnSync('kubectl', ['kustomize', join(ROOT, 'deploy/kubernetes/services')], { encoding: 'utf8' })
    expect(rendered.status, rendered.stderr).toBe(0)
    const file = join(tmp, 'services.yaml')
    writeFileSync(file, rendered.stdout)
    const v = spawnSync(process.execPath, [join(ROOT, 'deploy/kubernetes/validate.mjs'), file], {
      encoding: 'utf8',
      env: { ...process.env, MODELS_DIR: modelsDir },
    })
    expect(v.status, v.stdout + v.stderr).toBe(0)
    expect(v.stdout).toMatch(/26 documents, 0 invalid/)
  })
})
