// deploy/kubernetes/services as an operator relies on it: the reserves API scaled and kept up
// through disruptions, its builders apart; arbitrage as an active executor and a standby that
// never trade at once (both --standby on one account: the lease decides); secrets mounted so the
// services accept them (root-owned 0440 under the pod's fsGroup); probes on the services' own /health and /ready; and every flag the
// manifests pass is one the `cairn` command accepts (its real command tree). Rendered and checked
// against the OpenAPI schemas by kubernetes-schemas.e2e.test.ts.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse, parseAllDocuments } from 'yaml'
import { buildFullProgram } from '../../packages/node/src/cli/program.ts'

const DIR = join(import.meta.dirname, '../../deploy/kubernetes/services')
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of known shape, walked by the assertions
type Obj = Record<string, any>
const docs = (file: string): Obj[] =>
  parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Obj)
const find = (file: string, kind: string, name: string): Obj => {
  const d = docs(file).find((x) => x.kind === kind && x.metadata.name === name)
  if (!d) throw new Error(`no ${kind} ${name} in ${file}`)
  return d
}
const workloads = [
  find('reserves.yaml', 'Deployment', 'cairn-reserves-api'),
  find('reserves.yaml', 'Deployment', 'cairn-reserves-builder'),
  find('arbitrage.yaml', 'Deployment', 'cairn-arbitrage'),
]

describe('deploy/kubernetes/services', () => {
  it('arbitrage: two executors, both standby on one account, a PDB that keeps one', () => {
    const arb = find('arbitrage.yaml', 'Deployment', 'cairn-arbitrage')
    expect(arb.spec.replicas).toBe(2)
    const args: string[] = arb.spec.template.spec.containers[0].args
    expect(args.slice(0, 3)).toEqual(['arb', 'start', '--standby'])
    expect(args).toContain('--executor-id=$(POD_NAME)')
    expect(find('arbitrage.yaml', 'PodDisruptionBudget', 'cairn-arbitrage').spec.minAvailable).toBe(1)
  })

  it('reserves: API instances that do not build, autoscaled from 2, a PDB; builders apart', () => {
    const api = find('reserves.yaml', 'Deployment', 'cairn-reserves-api')
    expect(api.spec.template.spec.containers[0].args).toContain('--no-build')
    expect(
      find('reserves.yaml', 'Deployment', 'cairn-reserves-builder').spec.template.spec.containers[0].args,
    ).not.toContain('--no-build')
    const hpa = find('reserves.yaml', 'HorizontalPodAutoscaler', 'cairn-reserves-api')
    expect(hpa.spec.scaleTargetRef.name).toBe('cairn-reserves-api')
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2)
    const svc = find('reserves.yaml', 'Service', 'cairn-reserves')
    expect(svc.spec.selector).toEqual(api.spec.selector.matchLabels)
    expect(find('reserves.yaml', 'PodDisruptionBudget', 'cairn-reserves-api').spec.minAvailable).toBe(1)
  })

  it('every workload: probes on /health and /ready, non-root and read-only, secrets 0440 under its fsGroup', () => {
    for (const w of workloads) {
      const pod = w.spec.template.spec
      const c = pod.containers[0]
      expect(c.readinessProbe.httpGet.path, w.metadata.name).toBe('/ready')
      expect(c.livenessProbe.httpGet.path, w.metadata.name).toBe('/health')
      expect(pod.securityContext.runAsNonRoot).toBe(true)
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true)
      expect(c.resources.limits.memory).toBeDefined()
      const secret = pod.volumes.find((v: Obj) => v.secret)
      // root-owned files a non-root pod reads only through its fsGroup (the kubelet adds group read):
      // 0440, which the services' secret reader accepts for root's files alone (PostgreSQL's rule)
      expect(secret.secret.defaultMode, w.metadata.name).toBe(0o440)
      expect(pod.securityContext.fsGroup, w.metadata.name).toBe(pod.securityContext.runAsUser)
    }
  })

  it('PostgreSQL: Patroni members that elect a leader through the Kubernetes API; Services follow it', () => {
    const pg = find('postgres.yaml', 'StatefulSet', 'cairn-postgres')
    expect(pg.spec.replicas).toBe(2)
    const pod = pg.spec.template.spec
    const c = pod.containers[0]
    expect(c.command).toEqual(['/usr/local/bin/cairn-patroni'])
    const env = Object.fromEntries((c.env as Obj[]).map((e) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]))
    // Patroni finds its members by these labels: they are the pods' own
    const labels = parse(env.PATRONI_KUBERNETES_LABELS) as Record<string, string>
    for (const [k, v] of Object.entries(labels)) expect(pg.spec.template.metadata.labels[k]).toBe(v)
    expect(env.PATRONI_NAME).toBe('metadata.name')
    expect(env.PATRONI_POSTGRESQL_CONNECT_ADDRESS).toBe('$(PATRONI_KUBERNETES_POD_IP):5432')
    expect([c.readinessProbe.httpGet.path, c.livenessProbe.httpGet.path]).toEqual(['/readiness', '/liveness'])
    // the pods' account may take the lock (ConfigMaps) and label the pods
    expect(pod.serviceAccountName).toBe('cairn-postgres')
    const binding = find('postgres.yaml', 'RoleBinding', 'cairn-postgres')
    expect(binding.subjects[0].name).toBe(pod.serviceAccountName)
    const rules = find('postgres.yaml', 'Role', binding.roleRef.name).rules as Obj[]
    const may = (res: string, verb: string) => rules.some((r) => r.resources.includes(res) && r.verbs.includes(verb))
    expect(may('configmaps', 'update') && may('configmaps', 'create') && may('pods', 'patch')).toBe(true)
    // the same Patroni file as compose's (and the failover test's): synchronous, so no acknowledged write is lost
    const cm = find('postgres.yaml', 'ConfigMap', 'cairn-postgres-patroni').data as Record<string, string>
    const shipped = parse(readFileSync(join(DIR, '../../compose/postgres-ha/patroni.yml'), 'utf8'))
    expect(parse(cm['cairn.yml'] as string)).toEqual(shipped)
    expect(shipped.bootstrap.dcs.synchronous_mode).toBe(true)
    expect((c.volumeMounts as Obj[]).find((m) => m.name === 'config')?.mountPath).toBe('/etc/patroni')
    // the writable Service selects the leader Patroni labels, the replica Service the standby
    const selector = (svc: string) => find('postgres.yaml', 'Service', svc).spec.selector.role as string
    expect([selector('cairn-postgres-primary'), selector('cairn-postgres-replica')]).toEqual(['master', 'replica'])
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey).toBe(
      'kubernetes.io/hostname',
    )
    expect(find('postgres.yaml', 'Service', 'cairn-postgres').spec.clusterIP).toBe('None')
    expect(find('postgres.yaml', 'PodDisruptionBudget', 'cairn-postgres').spec.maxUnavailable).toBe(1)
  })

  it('NATS: three JetStream servers, each routing to all three; a PDB that keeps the quorum', () => {
    const nats = find('nats.yaml', 'StatefulSet', 'cairn-nats')
    expect(nats.spec.replicas).toBe(3)
    const conf = find('nats.yaml', 'ConfigMap', 'cairn-nats').data['nats.conf'] as string
    expect(conf).toMatch(/jetstream \{\s*store_dir: \/data/)
    expect(conf).toMatch(/server_name: \$POD_NAME/)
    const routes = [...conf.matchAll(/nats-route:\/\/(cairn-nats-\d)\.cairn-nats:6222/g)].map((m) => m[1])
    expect(routes).toEqual(Array.from({ length: nats.spec.replicas }, (_, i) => `cairn-nats-${i}`))
    const svc = find('nats.yaml', 'Service', 'cairn-nats')
    expect(svc.spec.clusterIP).toBe('None')
    expect(svc.spec.publishNotReadyAddresses).toBe(true)
    expect(nats.spec.serviceName).toBe('cairn-nats')
    const c = nats.spec.template.spec.containers[0]
    expect(c.readinessProbe.httpGet.path).toBe('/healthz')
    expect(c.env.find((e: Obj) => e.name === 'POD_NAME').valueFrom.fieldRef.fieldPath).toBe('metadata.name')
    expect(find('nats.yaml', 'PodDisruptionBudget', 'cairn-nats').spec.maxUnavailable).toBe(1)
  })

  it('every NetworkPolicy selects pods that exist', () => {
    const labels = [
      ...workloads,
      find('postgres.yaml', 'StatefulSet', 'cairn-postgres'),
      find('nats.yaml', 'StatefulSet', 'cairn-nats'),
    ].map((w) => w.spec.template.metadata.labels)
    for (const p of docs('policies.yaml')) {
      const want = p.spec.podSelector.matchLabels as Record<string, string>
      expect(
        labels.some((l) => Object.entries(want).every(([k, v]) => l[k] === v)),
        p.metadata.name,
      ).toBe(true)
    }
  })

  it('every flag the manifests pass is one the command accepts', async () => {
    const program = await buildFullProgram()
    for (const w of workloads) {
      const args: string[] = w.spec.template.spec.containers[0].args
      type Cmd = { name(): string; commands: readonly Cmd[]; options: readonly { long?: string; negate: boolean }[] }
      let cmd = program as unknown as Cmd
      let i = 0
      for (; i < args.length && !(args[i] as string).startsWith('--'); i++) {
        const sub = cmd.commands.find((c) => c.name() === args[i])
        expect(sub, `${w.metadata.name}: cairn ${args.slice(0, i + 1).join(' ')}`).toBeDefined()
        cmd = sub as Cmd
      }
      const known = new Set(
        cmd.options.flatMap((o) => [o.long, o.negate ? o.long?.replace(/^--no-/, '--') : undefined]),
      )
      for (const a of args.slice(i)) expect(known.has(a.split('=')[0]), `${w.metadata.name}: ${a}`).toBe(true)
    }
  })
})
