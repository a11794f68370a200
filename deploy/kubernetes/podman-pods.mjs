#!/usr/bin/env node
// The Kubernetes devnet as plain Pods for `podman kube play`, to try the manifests on one machine
// without a cluster. Podman plays Pods but skips a StatefulSet without a word, and plays a
// Deployment's replicas on one named volume for an emptyDir (docs/operations/deployment.md): this
// renders the validators' StatefulSet and the followers' Deployment of deploy/kubernetes/base into
// one Pod per replica, each with a volume of its own, from the files make-devnet.sh wrote.
//
//   deploy/kubernetes/make-devnet.sh
//   node deploy/kubernetes/podman-pods.mjs > /tmp/cairn-pods.yaml
//   podman network create cairn
//   podman kube play --network cairn /tmp/cairn-pods.yaml
//   podman kube down /tmp/cairn-pods.yaml              (then: podman volume prune)
//
// What changes against Kubernetes, and why:
// - each pod is named as the StatefulSet names its pods (cairn-validator-<k>, cairn-follower-<i>)
//   and the bootnodes dial those names (`/dns4/cairn-validator-<k>/…`): Podman's network DNS
//   answers pod names, not the headless Service's `<pod>.cairn-validators`;
// - the config and genesis are one ConfigMap per role (Podman has no projected volumes), and each
//   validator's two keys a ConfigMap of its own, copied by the same init container into
//   /data/keys (0600): a local trial's keys, the same files make-devnet.sh left on disk;
// - the data volume is a PersistentVolumeClaim per pod (a Podman named volume: the StatefulSet's
//   volumeClaimTemplates, and a follower's emptyDir, which Podman would share between replicas);
// - probes, resources and ports are left out: Podman turns probes into systemd-timer health checks
//   (an error on every start where there is no systemd), limits into cgroup settings some hosts
//   refuse, and a containerPort into a port bound on the host (every validator's 8545: taken by
//   the first). The pods reach each other on the network; /health and /ready answer on 9100;
// - the init container is kept between starts (Podman's "always" type): Podman 4.3 fails the play
//   when it removes a finished "once" init container too early.
// Options: --image IMAGE (localhost/cairn:latest), --followers N (the Deployment's replicas),
// --dir DIR (the overlay's generated/).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const here = import.meta.dirname
const { parseAllDocuments, stringify } = createRequire(import.meta.url)('yaml')
const { values } = parseArgs({
  options: {
    image: { type: 'string', default: 'localhost/cairn:latest' },
    followers: { type: 'string' },
    dir: { type: 'string', default: join(here, 'overlays/devnet/generated') },
  },
})

function fail(msg) {
  process.stderr.write(`error: ${msg}\n`)
  process.exit(2)
}

const gen = values.dir
if (!existsSync(join(gen, 'genesis.json'))) fail(`${gen} holds no network: run deploy/kubernetes/make-devnet.sh first`)
const docs = (file) => parseAllDocuments(readFileSync(join(here, 'base', file), 'utf8')).map((d) => d.toJS())
const sts = docs('validators.yaml').find((d) => d.kind === 'StatefulSet')
const deploy = docs('followers.yaml').find((d) => d.kind === 'Deployment')
const keyFiles = readdirSync(gen).filter((f) => /^validator-\d+\.(node|validator)\.key$/.test(f))
const validators = new Set(keyFiles.map((f) => Number(f.split('.')[0].split('-')[1]))).size
if (validators === 0) fail(`no validator keys in ${gen}`)
const followers = Number(values.followers ?? deploy.spec.replicas)
if (!Number.isInteger(followers) || followers < 0 || followers > 16) fail('--followers: an integer from 0 to 16')

const genesis = readFileSync(join(gen, 'genesis.json'), 'utf8')
const bootnodes = /^bootnodes=(.*)$/m
  .exec(readFileSync(join(gen, 'bootnodes.env'), 'utf8'))?.[1]
  ?.replace(/\/dns4\/(cairn-validator-\d+)\.cairn-validators\//g, '/dns4/$1/')
if (!bootnodes) fail(`${gen}/bootnodes.env has no bootnodes= line`)

const out = []
const configMap = (name, data) => out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data })
const claim = (name) =>
  out.push({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  })
configMap('cairn-validator-files', {
  'validator.toml': readFileSync(join(here, 'base/validator.toml'), 'utf8'),
  'genesis.json': genesis,
})
configMap('cairn-follower-files', {
  'follower.toml': readFileSync(join(here, 'base/follower.toml'), 'utf8'),
  'genesis.json': genesis,
})

/** A container of a template, as Podman plays it: the image, the bootnodes inline, no probes or resources. */
function container(c) {
  const copy = structuredClone(c)
  copy.image = values.image
  for (const k of ['startupProbe', 'livenessProbe', 'readinessProbe', 'resources', 'ports']) delete copy[k]
  copy.env = (copy.env ?? []).map((e) => (e.name === 'CAIRN_P2P_BOOTNODES' ? { name: e.name, value: bootnodes } : e))
  return copy
}

/** One pod of a template: its own name and hostname, its volumes replaced by `volumes`. */
function pod(name, template, volumes) {
  const spec = structuredClone(template.spec)
  delete spec.affinity
  spec.hostname = name
  spec.containers = spec.containers.map(container)
  if (spec.initContainers) spec.initContainers = spec.initContainers.map(container)
  spec.volumes = volumes
  // Init containers kept ("always", run at each start of the pod): Podman 4.3 fails the play when
  // it removes a "once" init container that has not finished yet.
  const annotations = { 'io.podman.annotations.init.container.type': 'always' }
  out.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: template.metadata.labels, annotations }, spec })
}

const tmp = { name: 'tmp', emptyDir: { medium: 'Memory' } }
for (let k = 0; k < validators; k++) {
  const name = `cairn-validator-${k}`
  configMap(`${name}-keys`, {
    [`validator-${k}.node.key`]: readFileSync(join(gen, `validator-${k}.node.key`), 'utf8'),
    [`validator-${k}.validator.key`]: readFileSync(join(gen, `validator-${k}.validator.key`), 'utf8'),
  })
  claim(`${name}-data`)
  pod(name, sts.spec.template, [
    { name: 'data', persistentVolumeClaim: { claimName: `${name}-data` } },
    { name: 'keys', configMap: { name: `${name}-keys` } },
    { name: 'config', configMap: { name: 'cairn-validator-files' } },
    tmp,
  ])
}
for (let i = 0; i < followers; i++) {
  const name = `cairn-follower-${i}`
  claim(`${name}-data`)
  pod(name, deploy.spec.template, [
    { name: 'data', persistentVolumeClaim: { claimName: `${name}-data` } },
    { name: 'config', configMap: { name: 'cairn-follower-files' } },
    tmp,
  ])
}
process.stdout.write(out.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'))
