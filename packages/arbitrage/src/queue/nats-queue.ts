// The scale-out queue: a NATS JetStream stream with work-queue retention (a message is removed once
// one consumer acknowledges it) and one durable pull consumer shared by every executor process, so
// each opportunity goes to one of them. Publishing sets Nats-Msg-Id to the opportunity's id
// (JetStream drops a duplicate within its window); executors also claim the id before executing,
// which covers redeliveries (an executor that died before acknowledging).
import { openJetStream } from '@cairn/service-kit'
import { CairnError, type Logger } from '@cairn/utils'
import type { ConsumerMessages, JetStreamClient, NatsConnection } from 'nats'
import { ArbErrorCode } from '../errors.ts'
import { decodeQueued, encodeQueued } from './message.ts'
import type { OpportunityHandler, OpportunityQueue } from './queue.ts'

export interface NatsQueueOptions {
  /** nats://host:port (default 127.0.0.1:4222). */
  servers: string
  /** The stream (default CAIRN_ARB). */
  stream?: string
  /** The subject (default cairn.arb.opportunities). */
  subject?: string
  /** The shared durable consumer (default executors). */
  durable?: string
  /** Unacknowledged messages are delivered again after this (default 30 s). */
  ackWaitMs?: number
  /** JetStream's de-duplication window for Nats-Msg-Id (default 2 min). */
  duplicateWindowMs?: number
  /** Messages older than this are dropped by the stream (default 5 min: an old opportunity is gone). */
  maxAgeMs?: number
}

const queueError = (what: string, cause: unknown) =>
  new CairnError(ArbErrorCode.QUEUE, `${what}: ${(cause as Error).message}`, {
    fault: 'transient',
    cause,
    hint: 'check that NATS runs with JetStream enabled (nats-server -js) at --nats-url',
  })

export class NatsQueue implements OpportunityQueue {
  readonly kind = 'nats'
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly o: Required<NatsQueueOptions>,
    private readonly logger: Logger,
  ) {}

  /** Connects and makes the stream and the durable consumer when they do not exist. */
  static async open(opts: NatsQueueOptions, modules: { logger: Logger }): Promise<NatsQueue> {
    const o: Required<NatsQueueOptions> = {
      stream: 'CAIRN_ARB',
      subject: 'cairn.arb.opportunities',
      durable: 'executors',
      ackWaitMs: 30_000,
      duplicateWindowMs: 120_000,
      maxAgeMs: 300_000,
      ...opts,
    }
    const { nc, js } = await openJetStream({
      servers: o.servers,
      clientName: 'cairn-arb',
      stream: {
        name: o.stream,
        subjects: [o.subject],
        retention: 'workqueue',
        maxAgeMs: o.maxAgeMs,
        duplicateWindowMs: o.duplicateWindowMs,
      },
      consumer: { durable: o.durable, ackWaitMs: o.ackWaitMs, filterSubject: o.subject },
      onError: queueError,
    })
    return new NatsQueue(nc, js, o, modules.logger)
  }

  async publish(q: Parameters<OpportunityQueue['publish']>[0]): Promise<void> {
    try {
      await this.js.publish(this.o.subject, encodeQueued(q), { msgID: q.id })
    } catch (err) {
      throw queueError('publishing an opportunity failed', err)
    }
  }

  async consume(handler: OpportunityHandler): Promise<() => Promise<void>> {
    const consumer = await this.js.consumers.get(this.o.stream, this.o.durable)
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 8 })
    const loop = (async () => {
      for await (const m of messages) {
        let q: ReturnType<typeof decodeQueued>
        try {
          q = decodeQueued(m.data)
        } catch (err) {
          this.logger.warn({ err: (err as Error).message, seq: m.seq }, 'malformed opportunity message dropped')
          m.term()
          continue
        }
        try {
          await handler(q)
          m.ack()
        } catch (err) {
          this.logger.warn({ id: q.id, err: (err as Error).message }, 'opportunity handler failed: delivering it again')
          m.nak()
        }
      }
    })()
    return async () => {
      messages.stop()
      await loop
    }
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close())
  }
}
