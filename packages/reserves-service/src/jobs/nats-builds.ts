// Snapshot builds dispatched over NATS JetStream (`--queue.nats-url`; docs/reserves/service.md,
// "The build queue on NATS JetStream").
// The jobs table (jobs.ts) stays the truth; the stream only says which job to look at, to one
// worker at a time. Queuing a job (after its transaction commits) publishes its snapshot id on
// `<prefix>.builds` with `Nats-Msg-Id` = the job's dispatch key, so a second publish of the same
// queuing is dropped. The stream keeps each message until it is acked (work-queue retention), and
// every runner pulls from ONE durable consumer, so each message goes to one runner; that runner
// claims THAT job through the database (a job done, cancelled or held by a live lease builds
// nothing: the message is acked, or nak'ed until the lease or retry is due), sends `working()`
// while it builds, and acks when the attempt ends — a retry is nak'ed with its delay instead, and
// comes back when due. A runner killed mid-build never acks: the message is redelivered after the
// ack wait, and the next runner takes the job over once its lease has run out. Runners still poll
// the table (every 10 s instead of 1 s), so a message lost anyway never strands a job.
//
// Events (build queued, built, failed) go to every instance on a core NATS subject,
// `<prefix>.bus`: core pub/sub fans each event out to every subscriber at once, as NOTIFY does,
// without a consumer per instance; events are hints (clients re-read the database), so one missed
// during a reconnect costs nothing a JetStream replay would save.

import { ReservesErrorCode } from '@cairn/reserves'
import { activeTraceContext, carrierFrom, openJetStream, setTraceHeaders, WakeableSleep } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import type { Consumer, JetStreamClient, JsMsg, NatsConnection, Subscription } from 'nats'
import type { Counter, Registry } from 'prom-client'
import type { EventBus, ReservesEvent } from '../kernel/events.ts'
import type { BuildRunner, RunByIdOutcome } from './build-runner.ts'
import type { BuildJobs } from './jobs.ts'
import { createNatsBuildMetrics, type NatsBuildOutcome } from './nats-builds-metrics.ts'

export interface NatsBuildQueueOptions {
  /** nats://host:port[,…]. */
  servers: string
  /** The work-queue stream holding `<prefix>.builds` (made when missing). */
  stream: string
  /** Subjects: `<prefix>.builds` (jobs, JetStream) and `<prefix>.bus` (events, core NATS). */
  subjectPrefix: string
  /** The durable consumer every runner shares (made when missing; an existing one keeps its ack wait). */
  durable: string
  /** Redelivery of a message not acked (its runner died) after this long; `working()` every third of it. */
  ackWaitMs: number
  /** How long one pull waits for a message (also how long `stop()` may wait). */
  pullMs: number
  /** A second message with the same dispatch key within this window is dropped. */
  duplicateWindowMs: number
  /** A message nobody took leaves the stream after this long (polling still finds its job). */
  maxAgeMs: number
}

export const DEFAULT_NATS_BUILDS: Omit<NatsBuildQueueOptions, 'servers'> = {
  stream: 'RESERVES_BUILDS',
  subjectPrefix: 'cairn.reserves',
  durable: 'cairn-reserves-builds',
  ackWaitMs: 30_000,
  pullMs: 1_000,
  duplicateWindowMs: 600_000,
  maxAgeMs: 7 * 86_400_000,
}

/** How often an idle runner polls the jobs table when NATS dispatches builds (the fallback). */
export const NATS_FALLBACK_POLL_MS = 10_000

const natsError = (what: string, cause: unknown) =>
  new CairnError(ReservesErrorCode.STORAGE_FAILED, `${what}: ${(cause as Error).message}`, {
    fault: 'transient',
    cause,
    hint: 'check that NATS runs with JetStream enabled (nats-server -js) at --queue.nats-url',
  })

/** What the service needs of a build dispatch (app.ts). */
export interface BuildDispatch {
  /** A job was queued (its transaction committed): tell one runner. */
  dispatch(id: string): void
  /** Starts feeding this instance's runner. */
  start(runner: BuildRunner): void
  /** Stops pulling (after the runner stopped: a build in hand was released and is nak'ed). */
  stop(): Promise<void>
}

export class NatsBuildQueue implements BuildDispatch {
  private stopped = false
  private loop: Promise<void> | null = null
  private readonly pause = new WakeableSleep()
  private readonly enc = new TextEncoder()
  private readonly dec = new TextDecoder()
  readonly subject: string

  private constructor(
    readonly o: NatsBuildQueueOptions,
    readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly consumer: Consumer,
    private readonly m: { jobs: BuildJobs; logger: Logger; messages: Counter<'outcome'> },
  ) {
    this.subject = `${o.subjectPrefix}.builds`
  }

  /** Connects, makes the work-queue stream and the shared durable consumer when missing. */
  static async open(
    opts: Partial<NatsBuildQueueOptions> & { servers: string },
    modules: { jobs: BuildJobs; logger: Logger; registry: Registry },
  ): Promise<NatsBuildQueue> {
    const o: NatsBuildQueueOptions = { ...DEFAULT_NATS_BUILDS, ...opts }
    const subject = `${o.subjectPrefix}.builds`
    const { nc, js } = await openJetStream({
      servers: o.servers,
      clientName: 'cairn-reserves-builds',
      stream: {
        name: o.stream,
        subjects: [subject],
        retention: 'workqueue',
        maxAgeMs: o.maxAgeMs,
        duplicateWindowMs: o.duplicateWindowMs,
      },
      consumer: { durable: o.durable, ackWaitMs: o.ackWaitMs, filterSubject: subject },
      onError: natsError,
    })
    let consumer: Consumer
    try {
      consumer = await js.consumers.get(o.stream, o.durable)
    } catch (err) {
      await nc.close()
      throw natsError(`cannot open the JetStream consumer ${o.durable}`, err)
    }
    const messages = createNatsBuildMetrics(modules.registry)
    return new NatsBuildQueue(o, nc, js, consumer, { jobs: modules.jobs, logger: modules.logger, messages })
  }

  /** An event bus on this connection (`<prefix>.bus`). */
  eventBus(): NatsEventBus {
    return new NatsEventBus(this.nc, `${this.o.subjectPrefix}.bus`, this.m.logger)
  }

  /** Publishes the job's snapshot id (a job no longer queued is not published: polling covers any race). */
  dispatch(id: string): void {
    this.publish(id).catch((err: unknown) => {
      this.m.messages.inc({ outcome: 'publish_failed' })
      this.m.logger.warn({ err, snapshot: id }, 'build queue: publishing to NATS failed; the job waits for polling')
    })
  }

  /**
   * Publishes now: `duplicate` when the stream had this queuing already (its dispatch key),
   * `not_queued` when the job is not queued (claimed, or ended, meanwhile).
   */
  async publish(id: string): Promise<'published' | 'duplicate' | 'not_queued'> {
    const key = await this.m.jobs.dispatchKey(id)
    if (key === null) return 'not_queued'
    // the queuing request's W3C trace context rides in the headers: the build's span joins its trace
    const trace = activeTraceContext()
    const headers = trace ? (await import('nats')).headers() : undefined
    if (headers) setTraceHeaders(headers, trace)
    const ack = await this.js.publish(this.subject, this.enc.encode(id), {
      msgID: key,
      timeout: 5_000,
      ...(headers ? { headers } : {}),
    })
    const outcome = ack.duplicate ? 'duplicate' : 'published'
    this.m.messages.inc({ outcome })
    this.m.logger.debug({ snapshot: id, msgId: key, outcome }, 'build queue: job published to NATS')
    return outcome
  }

  start(runner: BuildRunner): void {
    this.loop ??= this.run(runner)
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.pause.wake()
    await this.loop
  }

  /** Closes the connection (after `stop()` and the event bus' `close()`). */
  async close(): Promise<void> {
    await this.stop()
    await this.nc.drain().catch(() => this.nc.close())
  }

  /** Throws when NATS is not connected (readiness). */
  async check(): Promise<void> {
    if (this.nc.isClosed()) throw natsError('NATS', new Error('the connection is closed'))
    await this.nc.flush()
  }

  private async run(runner: BuildRunner): Promise<void> {
    while (!this.stopped) {
      // one message in hand per runner: pull only once the build in hand (from polling too) has ended
      await runner.free()
      if (this.stopped) break
      let msg: JsMsg | null = null
      try {
        msg = await this.consumer.next({ expires: Math.max(1000, this.o.pullMs) })
      } catch (err) {
        this.m.logger.warn({ err }, 'build queue: pulling from NATS failed; trying again')
        await this.pause.sleep(1000)
        continue
      }
      if (!msg) continue
      await this.handle(msg, runner)
    }
  }

  /** Builds the job a message names (or not), then acks or naks the message; returns the outcome. */
  async handle(msg: JsMsg, runner: BuildRunner): Promise<NatsBuildOutcome> {
    const id = this.dec.decode(msg.data)
    const count = msg.info.redeliveryCount
    const log = this.m.logger.child({ snapshot: id, delivery: count })
    this.m.messages.inc({ outcome: msg.info.redelivered ? 'redelivered' : 'received' })
    log.info(
      msg.info.redelivered
        ? 'build queue: message delivered again (its runner died or stopped, or deferred it)'
        : 'build queue: message received',
    )
    const working = setInterval(
      () => {
        try {
          msg.working()
        } catch {} // the connection is down: the message may come again, the lease decides
      },
      Math.max(200, Math.floor(this.o.ackWaitMs / 3)),
    )
    let outcome: NatsBuildOutcome
    try {
      const r: RunByIdOutcome = await runner.runById(id, carrierFrom(msg.headers))
      outcome = answer(msg, r)
      log.info({ outcome }, `build queue: message ${outcome}`)
    } catch (err) {
      // the database refused the claim: the message comes back in a second
      outcome = 'error'
      safe(() => msg.nak(1000))
      log.warn({ err }, 'build queue: claiming the job of a message failed; it comes again')
    } finally {
      clearInterval(working)
    }
    this.m.messages.inc({ outcome })
    return outcome
  }
}

/** Acks (the attempt ended, or nothing is left to build) or naks (due later, or handed back). */
function answer(msg: JsMsg, r: RunByIdOutcome): NatsBuildOutcome {
  switch (r.outcome) {
    case 'built':
    case 'failed':
    case 'abandoned': // another runner or the operator took the job: theirs to finish
      safe(() => msg.ack())
      return r.outcome
    case 'gone':
      safe(() => msg.ack())
      return 'dropped'
    case 'retried':
      safe(() => msg.nak(r.retryMs))
      return 'retried'
    case 'wait':
      // held by a live lease, or a retry not yet due: look again then (at least 1 s apart)
      safe(() => msg.nak(Math.max(1000, r.waitMs + 100)))
      return 'deferred'
    case 'released':
      safe(() => msg.nak())
      return 'released'
  }
}

/** An ack or nak on a lost connection: the message comes again after the ack wait. */
function safe(f: () => void): void {
  try {
    f()
  } catch {}
}

/** Events to every instance on a core NATS subject (see the file's header). */
export class NatsEventBus implements EventBus {
  private readonly subs: ((e: ReservesEvent) => void)[] = []
  private readonly sub: Subscription
  private readonly enc = new TextEncoder()
  private readonly dec = new TextDecoder()

  constructor(
    private readonly nc: NatsConnection,
    readonly subject: string,
    logger: Logger,
  ) {
    this.sub = nc.subscribe(subject, {
      callback: (err, m) => {
        if (err) return logger.warn({ err }, 'event bus: NATS subscription failed')
        let e: ReservesEvent
        try {
          e = JSON.parse(this.dec.decode(m.data)) as ReservesEvent
        } catch {
          return
        }
        for (const s of this.subs) s(e)
      },
    })
  }

  async publish(e: ReservesEvent): Promise<void> {
    if (this.nc.isClosed()) throw natsError('event bus', new Error('the NATS connection is closed'))
    this.nc.publish(this.subject, this.enc.encode(JSON.stringify(e)))
  }

  subscribe(fn: (e: ReservesEvent) => void): void {
    this.subs.push(fn)
  }

  async check(): Promise<void> {
    if (this.nc.isClosed()) throw natsError('event bus', new Error('the NATS connection is closed'))
    await this.nc.flush()
  }

  /** Unsubscribes; the connection is the queue's (NatsBuildQueue.close). */
  async close(): Promise<void> {
    this.sub.unsubscribe()
  }
}
