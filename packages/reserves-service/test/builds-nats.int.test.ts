// Snapshot builds dispatched over NATS JetStream (127.0.0.1:4222; skipped with a message when
// absent), two services sharing one database (PostgreSQL when it answers, else PGlite), each with
// its own NATS connection and runner. The runners' polling is pushed out of the way (10 min), so
// only the queue hands out jobs: one message → one build by one runner; a second publish of the
// same queuing is dropped by the stream, and a stray message for a built job builds nothing; a
// runner that dies holding a message (never acked) and the job's lease → the message comes back
// and the other runner takes the job over (attempt 2). Events cross instances over NATS.
import { randomBytes } from 'node:crypto'
import { silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReservesService, DEFAULT_BUILDS, DEFAULT_SERVICE_OPTIONS, type ReservesService } from '../src/app.ts'
import type { BuildRunner } from '../src/jobs/build-runner.ts'
import { BuildJobs } from '../src/jobs/jobs.ts'
import { NatsBuildQueue, type NatsBuildQueueOptions } from '../src/jobs/nats-builds.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { signToken } from '../src/kernel/auth.ts'
import type { ReservesEvent } from '../src/kernel/events.ts'
import { connectJetStream, NATS } from './nats-harness.ts'
import { type OpenedSql, openTestSql, postgresUnavailable } from './service-harness.ts'

const jetStream = await connectJetStream()
const natsDown = jetStream.down
const nc = jetStream.nc
if (natsDown) console.warn(`skipping the NATS build-queue test: JetStream at 127.0.0.1:4222 unavailable (${natsDown})`)
const pgDown = natsDown ? 'not tried' : await postgresUnavailable()

const secret = new TextEncoder().encode('nats-builds-secret-nats-builds-secret')
const key = parseKeyFile('cd'.repeat(32))
const admin = { authorization: `Bearer ${signToken(secret, { sub: 'ops', role: 'admin', ttlSeconds: 600 })}` }
const csvOf = (n: number) => `userId,BTC\n${Array.from({ length: n }, (_, i) => `u${i},${i + 1}`).join('\n')}\n`

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function count(reg: Registry, name: string, outcome: string): Promise<number> {
  const m = reg.getSingleMetric(name)
  const v = (await m?.get())?.values.find((x) => x.labels.outcome === outcome)
  return Number(v?.value ?? 0)
}
const messages = (reg: Registry, outcome: string) => count(reg, 'cairn_reserves_build_queue_messages_total', outcome)
const built = (reg: Registry) => count(reg, 'cairn_reserves_build_attempts_total', 'built')

interface Instance {
  svc: ReservesService
  queue: NatsBuildQueue
  registry: Registry
  events: ReservesEvent[]
}

describe.skipIf(natsDown !== null)('snapshot builds over NATS JetStream', { timeout: 120_000 }, () => {
  const tag = randomBytes(4).toString('hex')
  const q = (n: number): Partial<NatsBuildQueueOptions> & { servers: string } => ({
    servers: NATS,
    stream: `CAIRN_RESERVES_BUILDS_TEST_${tag}_${n}`,
    subjectPrefix: `cairn.test.${tag}.${n}`,
    durable: `builds-${tag}-${n}`,
    ackWaitMs: 1_000,
  })
  const streams: string[] = []
  const opened: Instance[] = []
  let db: OpenedSql
  beforeAll(async () => {
    db = await openTestSql(pgDown ? 'pglite' : 'pg')
    process.stdout.write(`build queue over NATS on ${pgDown ? 'PGlite' : 'PostgreSQL'}\n`)
  })
  afterAll(async () => {
    for (const i of opened) {
      await i.svc.close().catch(() => {})
      await i.queue.close().catch(() => {})
    }
    const jsm = await nc?.jetstreamManager()
    for (const s of streams) await jsm?.streams.delete(s).catch(() => {})
    await nc?.close()
    await db?.close()
  })

  /** A service on the shared database with its own NATS connection; `build: false` is an API instance. */
  async function instance(n: number, owner: string, build = true): Promise<Instance> {
    const registry = new Registry()
    const opts = q(n)
    streams.push(opts.stream as string)
    const queue = await NatsBuildQueue.open(opts, { jobs: new BuildJobs(db.sql), logger: silentLogger, registry })
    const bus = queue.eventBus()
    const events: ReservesEvent[] = []
    bus.subscribe((e) => events.push(e))
    const svc = createReservesService(
      {
        ...DEFAULT_SERVICE_OPTIONS,
        jwtSecret: secret,
        defaultMinDepth: 4,
        builds: { ...DEFAULT_BUILDS, run: build, pollMs: 600_000, leaseMs: 3_000 },
      },
      { sql: db.sql, key, logger: silentLogger, metrics: registry, events: bus, buildDispatch: queue, owner },
    )
    const i = { svc, queue, registry, events }
    opened.push(i)
    return i
  }

  async function upload(i: Instance, id: string, n: number): Promise<void> {
    const r = await i.svc.app.inject({
      method: 'POST',
      url: `/v1/snapshots?id=${id}&currencies=BTC:8`,
      headers: { ...admin, 'content-type': 'text/csv' },
      payload: csvOf(n),
    })
    expect(r.statusCode, r.body).toBe(202)
  }

  const status = async (i: Instance, id: string) =>
    (
      (await i.svc.app.inject({ method: 'GET', url: `/v1/snapshots/${id}`, headers: admin })).json() as {
        status: string
      }
    ).status
  const waitingMessages = async (stream: string) =>
    (await (await nc!.jetstreamManager()).streams.info(stream)).state.messages

  it('one message → one build across two runners; a duplicate publish and a stray message build nothing', async () => {
    // an API instance queues four builds while no runner is up: four messages wait in the stream
    const a = await instance(1, 'api', false)
    const ids = ['n1', 'n2', 'n3', 'n4']
    for (const id of ids) await upload(a, id, 50)
    // the same queuing published again (another instance, a retried publish): the stream drops it
    expect(await a.queue.publish('n1')).toBe('duplicate')
    expect(await waitingMessages(q(1).stream as string)).toBe(ids.length)
    const b = await instance(1, 'runner-b')
    const c = await instance(1, 'runner-c')
    for (const id of ids)
      await until(`${id} built`, 60_000, async () => ((await status(a, id)) === 'built' ? 1 : undefined))
    // a stray message for a built job: acked and dropped, nothing built
    await nc!.jetstream().publish(a.queue.subject, new TextEncoder().encode('n2'), { msgID: `stray-${tag}` })
    await until('every message answered', 30_000, async () =>
      (await waitingMessages(q(1).stream as string)) === 0 &&
      (await messages(b.registry, 'dropped')) + (await messages(c.registry, 'dropped')) >= 1
        ? 1
        : undefined,
    )
    for (const id of ids) expect(await a.svc.jobs.get(id)).toMatchObject({ state: 'done', attempts: 1 })
    const [builtB, builtC] = [await built(b.registry), await built(c.registry)]
    process.stdout.write(`built by runner b: ${builtB}, by runner c: ${builtC}\n`)
    expect(builtB + builtC).toBe(ids.length)
    expect(await messages(a.registry, 'published')).toBe(ids.length)
    expect(await messages(a.registry, 'duplicate')).toBe(1)
    // events cross instances: the API instance heard of every build, wherever it ran
    for (const id of ids) expect(a.events.some((e) => e.type === 'snapshot.built' && e.id === id)).toBe(true)
    const ready = await a.svc.app.inject({ method: 'GET', url: '/ready' })
    expect(ready.statusCode, ready.body).toBe(200)
    expect(ready.body).toContain('events')
  })

  it('a runner that dies holding the message (never acked) → the message comes back, another runner builds it', async () => {
    // an API instance queues; a "runner" claims the job (3 s lease) from the message, then dies
    const api = await instance(2, 'api', false)
    const dead = await NatsBuildQueue.open(q(2), {
      jobs: new BuildJobs(db.sql),
      logger: silentLogger,
      registry: new Registry(),
    })
    const jobs = new BuildJobs(db.sql)
    let claimed = ''
    let end = () => {}
    const dying = {
      free: async () => {},
      runById: async (id: string) => {
        const r = await jobs.claimById(id, 'runner-dead', 3_000)
        if ('job' in r) claimed = id
        // never ends while the test runs: no ack, no nak (ended afterwards, on a closed connection)
        return new Promise((r) => {
          end = () => r({ outcome: 'abandoned' })
        })
      },
    } as unknown as BuildRunner
    dead.start(dying)
    await upload(api, 'd1', 50)
    await until('the dying runner holding d1', 30_000, () => (claimed === 'd1' ? 1 : undefined))
    expect(await jobs.get('d1')).toMatchObject({ state: 'running', leaseOwner: 'runner-dead', attempts: 1 })
    await dead.nc.close() // killed: its message is neither acked nor nak'ed
    const survivor = await instance(2, 'runner-b')
    await until('d1 built', 60_000, async () => ((await status(api, 'd1')) === 'built' ? 1 : undefined))
    expect(await jobs.get('d1')).toMatchObject({ state: 'done', attempts: 2 })
    expect(await messages(survivor.registry, 'redelivered')).toBeGreaterThanOrEqual(1)
    // the count follows the commit the status query saw (another connection): wait for it, then
    // check, once the message is acked, that it was built once
    await until('the survivor counted the build', 30_000, async () =>
      (await built(survivor.registry)) ? 1 : undefined,
    )
    await until('the message acked', 30_000, async () =>
      (await waitingMessages(q(2).stream as string)) === 0 ? 1 : undefined,
    )
    expect(await built(survivor.registry)).toBe(1)
    expect(api.events.some((e) => e.type === 'snapshot.built' && e.id === 'd1')).toBe(true)
    end()
    await dead.stop()
  })
})
