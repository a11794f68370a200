// deploy/kubernetes/services/nats.yaml's own nats.conf run as the cluster it describes: three real
// nats-server processes (Debian's), each with the ConfigMap's config — only the host names of the
// routes and the ports rewritten to this machine's — form one JetStream cluster; a stream with
// three replicas keeps taking messages when its leader is killed (SIGKILL), and loses none.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type NatsConnection } from 'nats'
import { afterAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'

const haveNats = spawnSync('nats-server', ['--version'], { encoding: 'utf8' }).status === 0
if (!haveNats)
  console.warn('the NATS cluster manifest is not run: no nats-server (Debian: apt-get install nats-server)')

const FILE = join(import.meta.dirname, '../../deploy/kubernetes/services/nats.yaml')
const conf = parseAllDocuments(readFileSync(FILE, 'utf8'))
  .map((d) => d.toJS() as { kind: string; data?: Record<string, string> })
  .find((d) => d.kind === 'ConfigMap')?.data?.['nats.conf'] as string

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Retries `fn` until it resolves (JetStream answers "temporarily unavailable" while it elects), or fails after `ms`. */
async function eventually<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > end) throw err
      await sleep(200)
    }
  }
}

describe.skipIf(!haveNats)('the NATS JetStream cluster of deploy/kubernetes/services', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-nats-cluster-'))
  const servers: ChildProcess[] = []
  let nc: NatsConnection | null = null
  afterAll(async () => {
    await nc?.close().catch(() => {})
    for (const s of servers) s.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('forms from the ConfigMap, and a 3-replica stream survives losing its leader', async () => {
    const n = 3
    const ports = await Promise.all(
      Array.from({ length: n }, async () => ({
        client: await freePort(),
        route: await freePort(),
        http: await freePort(),
      })),
    )
    for (let i = 0; i < n; i++) {
      const data = join(dir, `data-${i}`)
      mkdirSync(data)
      let c = conf
        .replace(/^port: 4222$/m, `port: ${ports[i]!.client}`)
        .replace(/^http_port: 8222$/m, `http_port: ${ports[i]!.http}`)
        .replace(/^(\s*)port: 6222$/m, `$1port: ${ports[i]!.route}`)
        .replaceAll('/data', data)
      for (let k = 0; k < n; k++)
        c = c.replace(`nats-route://cairn-nats-${k}.cairn-nats:6222`, `nats-route://127.0.0.1:${ports[k]!.route}`)
      expect(c).not.toMatch(/cairn-nats-\d\.cairn-nats|: 4222|: 6222|: 8222/) // every name and port was rewritten
      writeFileSync(join(dir, `nats-${i}.conf`), c)
      const s = spawn('nats-server', ['-c', join(dir, `nats-${i}.conf`)], {
        env: { ...process.env, POD_NAME: `cairn-nats-${i}` },
        stdio: ['ignore', 'ignore', openSync(join(dir, `nats-${i}.log`), 'w')],
      })
      servers.push(s)
    }
    nc = await eventually(20_000, () => connect({ servers: ports.map((p) => `127.0.0.1:${p.client}`) }))
    const c = nc
    const jsm = await eventually(30_000, () => c.jetstreamManager({ timeout: 2_000 }))
    // created once the cluster has a meta leader: every server route-connected, JetStream up
    await eventually(30_000, () => jsm.streams.add({ name: 'HA', subjects: ['ha.>'], num_replicas: 3 }))
    const js = nc.jetstream()
    await eventually(10_000, () => js.publish('ha.one', new TextEncoder().encode('1')))
    const info = await jsm.streams.info('HA')
    expect(info.cluster?.replicas?.length).toBe(2) // a leader and two followers, on three servers
    const leader = info.cluster?.leader as string
    expect(leader).toMatch(/^cairn-nats-\d$/) // server_name from $POD_NAME, as in the pod

    servers[Number(leader.slice(-1))]!.kill('SIGKILL')
    // a new leader is elected from the two left; the client moves to a live server
    await eventually(30_000, () => js.publish('ha.two', new TextEncoder().encode('2'), { timeout: 2_000 }))
    const after = await eventually(10_000, () => jsm.streams.info('HA'))
    expect(after.cluster?.leader).not.toBe(leader)
    expect(after.state.messages).toBe(2)
  }, 120_000)
})
