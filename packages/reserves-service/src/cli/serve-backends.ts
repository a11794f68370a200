// The backends `serve` opens beside the database, as its flags ask: the shared rate-limit store
// (Redis), the event relay to NATS, the ledger's NATS consumer, and the events between instances
// (the NATS build queue's bus, or PostgreSQL's LISTEN/NOTIFY); each adds its readiness check.

import { ReservesErrorCode } from '@cairn/reserves'
import { type RateLimitStore, RedisRateLimitStore, type Tracer } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import type { Registry } from 'prom-client'
import { LedgerNatsConsumer } from '../features/ledger/nats-consumer.ts'
import { NatsRelay } from '../features/webhooks/nats-relay.ts'
import { BuildJobs } from '../jobs/jobs.ts'
import { NATS_FALLBACK_POLL_MS, NatsBuildQueue } from '../jobs/nats-builds.ts'
import type { AtRestKey } from '../kernel/at-rest.ts'
import { type EventBus, PgEventBus } from '../kernel/events.ts'
import type { Sql } from '../kernel/sql.ts'
import type { ServeFlags } from './serve-flags.ts'
import type { WorkerOptions } from './serve-options.ts'

export interface Backends {
  rateLimitStore: RateLimitStore | undefined
  relay: NatsRelay | null
  ledgerNats: LedgerNatsConsumer | null
  events: EventBus | undefined
  buildQueue: NatsBuildQueue | null
  /** Readiness checks of what was opened. */
  checks: Record<string, () => Promise<void>>
  /** Closes what was opened (after the service). */
  close(): Promise<void>
}

/** Opens what the flags ask for; with the NATS build queue, the builds poll only as a fallback (`w.builds.pollMs`). */
export async function openBackends(
  o: ServeFlags,
  d: {
    sql: Sql
    logger: Logger
    registry: Registry
    key: AtRestKey
    rateRedis: string | undefined
    databasePassword?: (() => Promise<string>) | undefined
    tracer?: Tracer
  },
  w: WorkerOptions,
): Promise<Backends> {
  const { sql, logger, registry, key, rateRedis } = d
  const { builds } = w
  let rateLimitStore: RateLimitStore | undefined
  const checks: Record<string, () => Promise<void>> = {}
  if (o['rateLimit.store'] === 'redis' && rateRedis) {
    const rl = new RedisRateLimitStore({ url: rateRedis }, { logger, registry })
    await rl.open()
    rateLimitStore = rl
  }
  let relay: NatsRelay | null = null
  if (o['events.natsUrl']) {
    relay = await NatsRelay.open(
      {
        servers: o['events.natsUrl'],
        stream: o['events.natsStream'],
        subjectPrefix: o['events.natsSubjectPrefix'],
      },
      { sql, logger, registry },
    )
    const r = relay
    checks.nats = () => r.check()
  }
  let ledgerNats: LedgerNatsConsumer | null = null
  if (o['ledger.natsSubject']) {
    const servers = o['ledger.natsUrl'] ?? o['events.natsUrl']
    if (!servers)
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, '--ledger.nats-subject needs a NATS server', {
        fault: 'caller',
        hint: 'give --ledger.nats-url nats://host:4222 (or --events.nats-url)',
      })
    ledgerNats = await LedgerNatsConsumer.open(
      {
        servers,
        subject: o['ledger.natsSubject'],
        stream: o['ledger.natsStream'],
        durable: o['ledger.natsDurable'],
      },
      { sql, key, logger, registry, ...(d.tracer ? { tracer: d.tracer } : {}) },
    )
    const l = ledgerNats
    checks['ledger-nats'] = () => l.check()
  }
  let events: EventBus | undefined
  let buildQueue: NatsBuildQueue | null = null
  if (o['queue.natsUrl']) {
    const ackWaitMs = Math.round(Number(o['queue.natsAckWaitSeconds']) * 1000)
    if (!(ackWaitMs >= 1000))
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, '--queue.nats-ack-wait-seconds must be at least 1', {
        fault: 'caller',
      })
    const q = await NatsBuildQueue.open(
      {
        servers: o['queue.natsUrl'],
        stream: o['queue.natsStream'],
        subjectPrefix: o['queue.natsSubjectPrefix'],
        durable: o['queue.natsDurable'],
        ackWaitMs,
      },
      { jobs: new BuildJobs(sql), logger, registry },
    )
    buildQueue = q
    checks['queue-nats'] = () => q.check()
    // the queue hands out jobs; polling the table is only the fallback for a lost message
    builds.pollMs = NATS_FALLBACK_POLL_MS
    events = q.eventBus()
  } else if (o.databaseUrl) {
    const bus = new PgEventBus(
      { url: o.databaseUrl, ...(d.databasePassword ? { password: d.databasePassword } : {}) },
      { logger },
    )
    await bus.open()
    events = bus
  }
  return {
    rateLimitStore,
    relay,
    ledgerNats,
    events,
    buildQueue,
    checks,
    close: async () => {
      await ledgerNats?.stop().catch(() => {})
      await relay?.stop().catch(() => {})
      await events?.close()
      await buildQueue?.close().catch(() => {})
      await (rateLimitStore as RedisRateLimitStore | undefined)?.close?.()
    },
  }
}
