// Ledger batches from a queue (docs/reserves/ledger.md, "From NATS JetStream"): a durable pull
// consumer on `--ledger.nats-subject` applies each message as one batch — the body of
// `POST /v1/ledger/changes`, its `Nats-Msg-Id` the idempotency key — and acks it once the batch
// has committed. A batch the ledger refuses is terminated (never redelivered), audited and counted;
// a failure of the database or of NATS is nak'ed with a growing delay and tried again. The consumer
// allows one unacknowledged message (max_ack_pending 1), so batches apply in the stream's order
// however many instances share the durable, and a nak'ed batch holds back the ones after it.

import { ReservesErrorCode } from '@cairn/reserves'
import { backoffDelayMs } from '@cairn/reserves/webhooks'
import { carrierFrom, noopTracer, openJetStream, type Tracer, WakeableSleep } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import type { Consumer, JsMsg, NatsConnection } from 'nats'
import type { Counter, Registry } from 'prom-client'
import type { AtRestKey } from '../../kernel/at-rest.ts'
import { appendAudit } from '../../kernel/audit.ts'
import type { Sql } from '../../kernel/sql.ts'
import { parseInput } from '../../kernel/validate.ts'
import { Batch } from './batch.ts'
import { createLedgerNatsMetrics, type LEDGER_NATS_OUTCOMES } from './metrics.ts'
import { type LedgerChange, LedgerStore } from './store.ts'

export interface LedgerNatsOptions {
  /** nats://host:port[,…]. */
  servers: string
  /** The subject batches are published on (one batch per message). */
  subject: string
  /** The stream holding the subject; made (subjects = [subject]) when missing. */
  stream: string
  /** The durable consumer's name: its ack floor is where the ledger is in the stream. */
  durable: string
  /** Messages older than this leave a stream made here (default 7 days). */
  maxAgeMs: number
  /** A stream made here drops a second message with the same id within this window (default 10 min). */
  duplicateWindowMs: number
  /** Redelivery of an unacknowledged batch after this long; `working()` is sent while a batch applies. */
  ackWaitMs: number
  /** How long one pull waits for a message (at least 1000 ms; also how long `stop()` may wait). */
  pullMs: number
  /** Delays of a nak'ed batch: half to all of min(maxMs, baseMs·2^(n−1)) after the n-th failure. */
  retry: { baseMs: number; maxMs: number }
}

export const DEFAULT_LEDGER_NATS: Omit<LedgerNatsOptions, 'servers' | 'subject'> = {
  stream: 'CAIRN_RESERVES_LEDGER',
  durable: 'cairn-reserves-ledger',
  maxAgeMs: 7 * 86_400_000,
  duplicateWindowMs: 600_000,
  ackWaitMs: 60_000,
  pullMs: 1_000,
  retry: { baseMs: 1_000, maxMs: 60_000 },
}

export type LedgerNatsOutcome = (typeof LEDGER_NATS_OUTCOMES)[number]

/** What the API takes as an Idempotency-Key. */
const MSG_ID = /^[\x21-\x7e]{1,200}$/

const natsError = (what: string, cause: unknown) =>
  new CairnError(ReservesErrorCode.STORAGE_FAILED, `${what}: ${(cause as Error).message}`, {
    fault: 'transient',
    cause,
    hint: 'check that NATS runs with JetStream enabled (nats-server -js) at --ledger.nats-url (or --events.nats-url)',
  })

const refusal = (message: string, hint: string) =>
  new CairnError(ReservesErrorCode.BAD_OPTIONS, message, { fault: 'caller', hint })

export interface LedgerNatsModules {
  sql: Sql
  key: AtRestKey
  logger: Logger
  registry: Registry
  clockMs?: () => number
  /** A number in [0, 1) for the retry jitter (default Math.random). */
  random?: () => number
  /** A consumer span per batch, joining the trace of the publisher's `traceparent` header (default: none). */
  tracer?: Tracer
}

export class LedgerNatsConsumer {
  private stopped = false
  private loop: Promise<void> | null = null
  private readonly pause = new WakeableSleep()
  private readonly store: LedgerStore
  private readonly actor: string
  private readonly dec = new TextDecoder()

  private constructor(
    private readonly o: LedgerNatsOptions,
    private readonly nc: NatsConnection,
    private readonly consumer: Consumer,
    private readonly m: Required<LedgerNatsModules> & { batches: Counter<'outcome'> },
  ) {
    this.store = new LedgerStore(m.sql, m.key)
    this.actor = `nats:${o.subject}`
  }

  /**
   * Connects, makes the stream when it does not exist and the durable consumer (one message in
   * flight, explicit acks) when it does not exist; refuses a durable of that name that filters
   * another subject or lets more than one batch be in flight.
   */
  static async open(
    opts: Partial<LedgerNatsOptions> & { servers: string; subject: string },
    modules: LedgerNatsModules,
  ): Promise<LedgerNatsConsumer> {
    const o: LedgerNatsOptions = { ...DEFAULT_LEDGER_NATS, ...opts }
    if (o.pullMs < 1000) throw refusal(`the ledger's NATS pull wait is ${o.pullMs} ms`, 'use at least 1000 ms')
    const nats = await import('nats')
    const { nc, js } = await openJetStream({
      servers: o.servers,
      clientName: 'cairn-reserves-ledger',
      stream: {
        name: o.stream,
        subjects: [o.subject],
        retention: 'limits',
        maxAgeMs: o.maxAgeMs,
        duplicateWindowMs: o.duplicateWindowMs,
      },
      onError: natsError,
    })
    try {
      const jsm = await nc.jetstreamManager()
      const info = await jsm.consumers.info(o.stream, o.durable).catch(() => null)
      if (info === null)
        await jsm.consumers.add(o.stream, {
          durable_name: o.durable,
          ack_policy: nats.AckPolicy.Explicit,
          ack_wait: nats.nanos(o.ackWaitMs),
          max_ack_pending: 1,
          deliver_policy: nats.DeliverPolicy.All,
          filter_subject: o.subject,
        })
      else if (info.config.filter_subject !== o.subject || info.config.max_ack_pending !== 1)
        throw refusal(
          `the JetStream consumer ${o.durable} of stream ${o.stream} filters ${info.config.filter_subject ?? '(every subject)'} with max_ack_pending ${info.config.max_ack_pending}`,
          `the ledger needs filter ${o.subject} and max_ack_pending 1: name another durable (--ledger.nats-durable) or delete that one`,
        )
    } catch (err) {
      await nc.close()
      throw err instanceof CairnError ? err : natsError(`cannot set up the JetStream consumer ${o.durable}`, err)
    }
    const batches = createLedgerNatsMetrics(modules.registry)
    const consumer = await js.consumers.get(o.stream, o.durable)
    return new LedgerNatsConsumer(o, nc, consumer, {
      clockMs: Date.now,
      random: Math.random,
      tracer: noopTracer,
      ...modules,
      batches,
    })
  }

  start(): void {
    this.loop ??= this.run()
  }

  /** Throws when NATS is not connected (readiness). */
  async check(): Promise<void> {
    if (this.nc.isClosed()) throw natsError('NATS', new Error('the connection is closed'))
    await this.nc.flush()
  }

  /** Finishes the batch in hand (acked or nak'ed), then closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true
    this.pause.wake()
    await this.loop
    await this.nc.drain().catch(() => this.nc.close())
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let msg: JsMsg | null = null
      try {
        msg = await this.consumer.next({ expires: this.o.pullMs })
      } catch (err) {
        this.m.logger.warn({ err }, 'ledger: pulling from NATS failed; trying again')
        await this.pause.sleep(this.o.retry.baseMs)
        continue
      }
      if (!msg) continue
      // an ack, nak or term on a connection lost meanwhile: the batch comes again after the ack wait
      await this.handle(msg).catch((err: unknown) =>
        this.m.logger.warn({ err }, 'ledger: answering NATS about a batch failed; it is delivered again'),
      )
    }
  }

  /** Applies one message as a batch; returns its outcome (acked, terminated or nak'ed). */
  private async handle(msg: JsMsg): Promise<LedgerNatsOutcome> {
    const at = { stream: this.o.stream, streamSeq: msg.info.streamSequence }
    const msgId = msg.headers?.get('Nats-Msg-Id') ?? ''
    // the ack wait restarts while a large batch applies on a slow database
    const working = setInterval(
      () => {
        try {
          msg.working()
        } catch {} // the connection is down: the ack wait may run out, and the batch is replayed
      },
      Math.max(1000, Math.floor(this.o.ackWaitMs / 3)),
    )
    let outcome: LedgerNatsOutcome
    try {
      const changes = this.parse(msg, msgId)
      const answer = await this.m.tracer.span(
        'ledger.batch',
        { 'messaging.system': 'nats', 'messaging.destination.name': this.o.subject, 'ledger.changes': changes.length },
        () =>
          this.store.apply(changes, {
            actor: this.actor,
            role: 'system',
            requestId: `nats:${at.stream}:${at.streamSeq}`,
            idempotencyKey: msgId,
            at: new Date(this.m.clockMs()),
          }),
        { kind: 'consumer', parent: carrierFrom(msg.headers) },
      )
      outcome = answer.replayed ? 'replayed' : 'applied'
      // Counted before the ack: whoever sees the message done (the stream's pending count) sees it counted.
      this.m.batches.inc({ outcome })
      if (!answer.replayed) this.countChanges(answer)
      await msg.ackAck().catch(() => false) // a lost ack: redelivered after ackWait, then replayed
      this.m.logger.info({ ...at, msgId, ...answer }, `ledger: batch from NATS ${outcome}`)
    } catch (err) {
      outcome =
        err instanceof CairnError && err.fault === 'caller' && (await this.refuse(msg, msgId, err, at))
          ? 'refused'
          : this.retry(msg, msgId, err, at)
    } finally {
      clearInterval(working)
    }
    return outcome
  }

  private parse(msg: JsMsg, msgId: string): LedgerChange[] {
    if (!MSG_ID.test(msgId))
      throw refusal(
        `the message has ${msgId ? 'an unusable' : 'no'} Nats-Msg-Id header: it is the batch's idempotency key`,
        'publish each batch with a message id of 1 to 200 printable ASCII characters (nats pub -H Nats-Msg-Id:…, or js.publish(subject, data, {msgID}))',
      )
    let body: unknown
    try {
      body = JSON.parse(this.dec.decode(msg.data))
    } catch {
      throw refusal('the message is not JSON', 'publish the body of POST /v1/ledger/changes: {"changes":[…]}')
    }
    return parseInput(Batch, body, 'ledger batch').changes as LedgerChange[]
  }

  /**
   * Records a refused batch (an audit entry without user ids, a log line with the reasons), then
   * terminates it; false when the audit entry could not be written (the batch is then retried).
   */
  private async refuse(
    msg: JsMsg,
    msgId: string,
    err: CairnError,
    at: { stream: string; streamSeq: number },
  ): Promise<boolean> {
    const errorCount = (err.meta as { errorCount?: number } | undefined)?.errorCount ?? 1
    try {
      await appendAudit(this.m.sql, {
        actor: this.actor,
        role: 'system',
        action: 'ledger.refused',
        details: { ...at, msgId, code: err.code, errorCount },
      })
    } catch {
      return false
    }
    this.m.batches.inc({ outcome: 'refused' })
    // no reason string: servers before 2.11 ignore a +TERM that carries one (the log and audit hold it)
    msg.term()
    this.m.logger.warn(
      { ...at, msgId, code: err.code, errorCount, errors: (err.meta as { errors?: unknown } | undefined)?.errors },
      `ledger: batch from NATS refused and terminated: ${err.userMessage}`,
    )
    return true
  }

  /** Naks the batch: redelivered after a delay that grows with its deliveries. */
  private retry(msg: JsMsg, msgId: string, err: unknown, at: { stream: string; streamSeq: number }): 'retried' {
    const delayMs = backoffDelayMs(msg.info.redeliveryCount, this.o.retry, this.m.random)
    this.m.batches.inc({ outcome: 'retried' })
    msg.nak(delayMs)
    this.m.logger.warn({ err, ...at, msgId, delayMs }, 'ledger: batch from NATS failed; retried after a delay')
    return 'retried'
  }

  /** The routes' change counter, when the service registered it (one ledger, one count). */
  private countChanges(a: { changed: number; added: number; removed: number }): void {
    const c = this.m.registry.getSingleMetric('cairn_reserves_ledger_changes_total') as Counter<'kind'> | undefined
    if (!c) return
    c.inc({ kind: 'changed' }, a.changed)
    c.inc({ kind: 'added' }, a.added)
    c.inc({ kind: 'removed' }, a.removed)
  }
}
