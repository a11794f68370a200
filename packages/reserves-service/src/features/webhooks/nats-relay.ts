// The same events for internal systems on NATS JetStream (when `--events.nats-url` is given): a
// relay reads the outbox rows not yet relayed, oldest first, publishes each on
// `<prefix>.<type>` (e.g. `cairn.reserves.events.snapshot.built`) with `Nats-Msg-Id` = the event id,
// then marks them relayed. A crash between the publish and the mark (or two instances relaying the
// same rows) publishes them again, and JetStream drops the duplicate within its window; consumers
// deduplicate on the id beyond it, as webhook receivers do.

import { ReservesErrorCode } from '@cairn/reserves'
import { openJetStream, WakeableSleep } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import { type JetStreamClient, type NatsConnection, StringCodec } from 'nats'
import type { Counter, Registry } from 'prom-client'
import type { Sql } from '../../kernel/sql.ts'
import { createNatsEventMetrics } from './metrics.ts'

export interface NatsRelayOptions {
  /** nats://host:port. */
  servers: string
  /** The stream (default CAIRN_RESERVES_EVENTS), made when missing. */
  stream: string
  /** Subjects are `<prefix>.<event type>` (default cairn.reserves.events). */
  subjectPrefix: string
  /** Events older than this leave the stream (default 7 days). */
  maxAgeMs: number
  /** JetStream drops a second message with the same id within this window (default 10 min). */
  duplicateWindowMs: number
  /** How often the relay looks for new events when not woken (default 500 ms). */
  pollMs: number
  /** Events per transaction. */
  batch: number
}

export const DEFAULT_NATS_RELAY: Omit<NatsRelayOptions, 'servers'> = {
  stream: 'CAIRN_RESERVES_EVENTS',
  subjectPrefix: 'cairn.reserves.events',
  maxAgeMs: 7 * 86_400_000,
  duplicateWindowMs: 600_000,
  pollMs: 500,
  batch: 100,
}

const natsError = (what: string, cause: unknown) =>
  new CairnError(ReservesErrorCode.STORAGE_FAILED, `${what}: ${(cause as Error).message}`, {
    fault: 'transient',
    cause,
    hint: 'check that NATS runs with JetStream enabled (nats-server -js) at --events.nats-url',
  })

export class NatsRelay {
  private stopped = false
  private loop: Promise<void> | null = null
  private readonly idle = new WakeableSleep()
  private readonly sc = StringCodec()

  private constructor(
    private readonly o: NatsRelayOptions,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly modules: { sql: Sql; logger: Logger; published: Counter<'outcome'> },
  ) {}

  /** Connects and makes the stream when it does not exist. */
  static async open(
    opts: Partial<NatsRelayOptions> & { servers: string },
    modules: { sql: Sql; logger: Logger; registry: Registry },
  ): Promise<NatsRelay> {
    const o: NatsRelayOptions = { ...DEFAULT_NATS_RELAY, ...opts }
    const { nc, js } = await openJetStream({
      servers: o.servers,
      clientName: 'cairn-reserves',
      stream: {
        name: o.stream,
        subjects: [`${o.subjectPrefix}.>`],
        retention: 'limits',
        maxAgeMs: o.maxAgeMs,
        duplicateWindowMs: o.duplicateWindowMs,
      },
      onError: natsError,
    })
    const published = createNatsEventMetrics(modules.registry)
    return new NatsRelay(o, nc, js, { sql: modules.sql, logger: modules.logger, published })
  }

  start(): void {
    this.loop ??= this.run()
  }

  wake(): void {
    this.idle.wake()
  }

  /**
   * Publishes one batch of unrelayed events, then marks them relayed; returns how many (0: none
   * waiting). No transaction is held while NATS answers (PGlite's one connection stays free during an
   * outage); two instances may publish the same rows, and JetStream keeps one (`Nats-Msg-Id`).
   */
  async relayOnce(): Promise<number> {
    const { sql, published } = this.modules
    const rows = await sql.query<{ id: string; type: string; body: string }>(
      'SELECT id, type, body FROM reserves_outbox WHERE relayed_at IS NULL ORDER BY seq LIMIT $1',
      [this.o.batch],
    )
    if (rows.length === 0) return 0
    try {
      // in order, each acknowledged by the stream before the next
      for (const r of rows)
        await this.js.publish(`${this.o.subjectPrefix}.${r.type}`, this.sc.encode(r.body), {
          msgID: r.id,
          timeout: 5_000,
        })
    } catch (err) {
      published.inc({ outcome: 'failed' })
      throw natsError('publishing an event to NATS failed', err)
    }
    await sql.query('UPDATE reserves_outbox SET relayed_at = now() WHERE id = ANY($1::text[])', [rows.map((r) => r.id)])
    published.inc({ outcome: 'published' }, rows.length)
    return rows.length
  }

  /** Throws when NATS is not connected (readiness). */
  async check(): Promise<void> {
    if (this.nc.isClosed()) throw natsError('NATS', new Error('the connection is closed'))
    await this.nc.flush()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake()
    await this.loop
    await this.nc.drain().catch(() => this.nc.close())
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let n = 0
      try {
        n = await this.relayOnce()
      } catch (err) {
        this.modules.logger.warn({ err }, 'events: NATS relay failed; retrying')
      }
      if (this.stopped) break
      if (n > 0) continue
      await this.idle.sleep(this.o.pollMs)
    }
  }
}
