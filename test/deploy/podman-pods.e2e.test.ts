// deploy/kubernetes/podman-pods.mjs: the devnet overlay's StatefulSet and Deployment as one Pod per
// replica for `podman kube play` (which skips a StatefulSet silently and shares a Deployment's
// emptyDir between replicas): each pod its own data volume, the bootnodes on pod names, no probes.
// Played with Podman 4.3 by hand (docs/operations/deployment.md); here the rendering is checked.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'

const ROOT = join(import.meta.dirname, '../..')
const gen = mkdtempSync(join(tmpdir(), 'cairn-pods-'))
afterAll(() => rmSync(gen, { recursive: true, force: true }))

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of known shape, walked by the assertions
type Obj = Record<string, any>

describe('podman-pods.mjs', () => {
  it('renders a Pod per validator and per follower, each with a volume of its own', () => {
    writeFileSync(join(gen, 'genesis.json'), '{"config":{"chainId":1337}}\n')
    const ids = [0, 1, 2, 3].map((k) => `/dns4/cairn-validator-${k}.cairn-validators/tcp/30303/p2p/16Uiu2id${k}`)
    writeFileSync(join(gen, 'bootnodes.env'), `bootnodes=${ids.join(',')}\n`)
    for (let k = 0; k < 4; k++)
      for (const f of ['node', 'validator']) writeFileSync(join(gen, `validator-${k}.${f}.key`), `${f}${k}\n`)
    const r = spawnSync(process.execPath, [join(ROOT, 'deploy/kubernetes/podman-pods.mjs'), '--dir', gen], {
      encoding: 'utf8',
    })
    expect(r.status, r.stderr).toBe(0)
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj)
    const pods = docs.filter((d) => d.kind === 'Pod')
    expect(pods.map((p) => p.metadata.name)).toEqual([
      'cairn-validator-0',
      'cairn-validator-1',
      'cairn-validator-2',
      'cairn-validator-3',
      'cairn-follower-0',
      'cairn-follower-1',
    ])
    const claims = pods.map((p) => p.spec.volumes.find((v: Obj) => v.name === 'data').persistentVolumeClaim.claimName)
    expect(new Set(claims).size).toBe(pods.length)
    for (const c of claims)
      expect(docs.some((d) => d.kind === 'PersistentVolumeClaim' && d.metadata.name === c)).toBe(true)
    for (const p of pods) {
      const main = p.spec.containers[0]
      expect(main.image).toBe('localhost/cairn:latest')
      // no probes (systemd-timer health checks), limits, or ports (bound on the host by Podman)
      expect(
        main.livenessProbe ?? main.readinessProbe ?? main.startupProbe ?? main.resources ?? main.ports,
      ).toBeUndefined()
      expect(p.metadata.annotations['io.podman.annotations.init.container.type']).toBe('always')
      const boot = main.env.find((e: Obj) => e.name === 'CAIRN_P2P_BOOTNODES')
      expect(boot.value).toBe(ids.map((id) => id.replace('.cairn-validators', '')).join(','))
      for (const v of p.spec.volumes) expect(v.projected).toBeUndefined()
    }
    // validator k's keys, for the init container that copies them by the pod's ordinal
    const keys = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'cairn-validator-2-keys')
    expect(keys?.data).toEqual({ 'validator-2.node.key': 'node2\n', 'validator-2.validator.key': 'validator2\n' })
    expect(pods[2]?.spec.initContainers[0].env[0].valueFrom.fieldRef.fieldPath).toBe('metadata.name')
  })

  it('says what to run first when make-devnet.sh has not run', () => {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'deploy/kubernetes/podman-pods.mjs'), '--dir', join(gen, 'none')],
      {
        encoding: 'utf8',
      },
    )
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('run deploy/kubernetes/make-devnet.sh first')
  })
})
