// deploy/kubernetes/base as an operator relies on it: validators that tolerate f = 1 of 4 going
// down (PDB), start in parallel, roll one at a time, find each other by DNS; probes on the
// metrics listener; non-root, read-only containers with requests and limits.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'

const BASE = join(import.meta.dirname, '../../deploy/kubernetes/base')
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of known shape, walked by the assertions
type Obj = Record<string, any>
const docs = (file: string): Obj[] =>
  parseAllDocuments(readFileSync(join(BASE, file), 'utf8')).map((d) => d.toJS() as Obj)
const byKind = (file: string, kind: string): Obj => {
  const found = docs(file).find((d) => d.kind === kind)
  if (!found) throw new Error(`no ${kind} in ${file}`)
  return found
}

describe('deploy/kubernetes/base', () => {
  const sts = byKind('validators.yaml', 'StatefulSet')
  const headless = byKind('validators.yaml', 'Service')
  const followers = byKind('followers.yaml', 'Deployment')

  it('validators: a StatefulSet of 4, Parallel, RollingUpdate, a PVC each, behind a headless Service that publishes not-ready pods', () => {
    expect(sts.spec.replicas).toBe(4)
    expect(sts.spec.podManagementPolicy).toBe('Parallel')
    expect(sts.spec.updateStrategy.type).toBe('RollingUpdate')
    expect(sts.spec.volumeClaimTemplates[0].metadata.name).toBe('data')
    expect(sts.spec.serviceName).toBe(headless.metadata.name)
    expect(headless.spec.clusterIP).toBe('None')
    expect(headless.spec.publishNotReadyAddresses).toBe(true)
  })

  it('the PodDisruptionBudget lets at most f = floor((n - 1) / 3) validators go', () => {
    const pdb = docs('pdb.yaml').find((d) => d.metadata.name === 'cairn-validators') as Obj
    const f = Math.floor((sts.spec.replicas - 1) / 3)
    expect(pdb.spec.maxUnavailable).toBe(f)
    expect(pdb.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels)
  })

  it('validators get keys from a Secret through an init container, and DNS bootnodes from a ConfigMap', () => {
    const pod = sts.spec.template.spec
    expect(pod.volumes.find((v: Obj) => v.name === 'keys').secret.secretName).toBe('cairn-validator-keys')
    expect(pod.initContainers[0].command.join(' ')).toMatch(/validator-\$k\.\$f\.key/)
    const env = pod.containers[0].env.find((e: Obj) => e.name === 'CAIRN_P2P_BOOTNODES')
    expect(env.valueFrom.configMapKeyRef.name).toBe('cairn-bootnodes')
  })

  it.each([
    ['validators', sts],
    ['followers', followers],
  ])('%s: probes (startup, liveness /health, readiness /ready), limits, non-root, read-only root', (_, w) => {
    const pod = (w as Obj).spec.template.spec
    expect(pod.securityContext.runAsNonRoot).toBe(true)
    expect(pod.securityContext.runAsUser).toBe(10001)
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true)
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false)
      expect(c.resources.requests.cpu).toBeDefined()
      expect(c.resources.limits.memory).toBeDefined()
    }
    const main = pod.containers[0]
    expect(main.livenessProbe.httpGet.path).toBe('/health')
    expect(main.readinessProbe.httpGet.path).toBe('/ready')
    expect(main.startupProbe.failureThreshold * main.startupProbe.periodSeconds).toBeGreaterThanOrEqual(300)
    // /tmp is the only other writable path (tsx's and V8's caches)
    expect(main.volumeMounts.map((m: Obj) => m.mountPath).sort()).toEqual(['/data', '/etc/cairn', '/tmp'])
  })

  it('the configs the pods read: validators keep the RPC on loopback, followers serve reads only', () => {
    const validator = readFileSync(join(BASE, 'validator.toml'), 'utf8')
    expect(validator).toMatch(/\[http\]\naddr = "127\.0\.0\.1"/)
    expect(validator).toMatch(/\[metrics\]\nhost = "0\.0\.0\.0"\nport = 9100/)
    const follower = readFileSync(join(BASE, 'follower.toml'), 'utf8')
    expect(follower).toMatch(/^follow = true$/m)
    expect(follower).toMatch(/api = \["eth", "net", "web3"\]/)
  })

  it('the kustomization lists every manifest of the directory', () => {
    const k = docs('kustomization.yaml')[0] as Obj
    expect(k.resources.sort()).toEqual(
      [
        'namespace.yaml',
        'validators.yaml',
        'followers.yaml',
        'pdb.yaml',
        'networkpolicies.yaml',
        'monitoring.yaml',
        'prometheusrule.yaml',
      ].sort(),
    )
  })
})
