// The NATS JetStream connection every service opens the same way (the reserves' event relay, the
// arbitrage work queue): connect with endless reconnects, then make the stream (and a durable
// consumer) when missing, closing the connection if that fails. Each service turns a failure into
// its own domain's error (`onError`), with the hint that names its flag.
import type { ConsumerConfig, JetStreamClient, JetStreamManager, NatsConnection, StreamConfig } from 'nats'

/** The retention policies of a stream, by name (JetStream's `limits`, `interest`, `workqueue`). */
export type StreamRetention = 'limits' | 'interest' | 'workqueue'

export interface JetStreamOptions {
  /** nats://host:port[,…]. */
  servers: string
  /** The client name the server shows (`cairn-reserves`). */
  clientName: string
  stream: {
    name: string
    subjects: string[]
    retention: StreamRetention
    /** Messages older than this leave the stream. */
    maxAgeMs: number
    /** JetStream drops a second message with the same `Nats-Msg-Id` within this window. */
    duplicateWindowMs: number
  }
  /** A durable pull consumer with explicit acks, made when missing. */
  consumer?: { durable: string; ackWaitMs: number; filterSubject: string }
  /** The service's error for a failed step: `what` says which (connect, or set up the stream). */
  onError(what: string, cause: unknown): Error
}

export interface JetStreamHandle {
  nc: NatsConnection
  js: JetStreamClient
}

/** Connects to NATS and makes the stream (and consumer) when it does not exist. */
export async function openJetStream(o: JetStreamOptions): Promise<JetStreamHandle> {
  // Loaded on first use, as ioredis is (redis.ts): processes that never use NATS do not pay for it.
  const nats = await import('nats')
  let nc: NatsConnection
  try {
    nc = await nats.connect({
      servers: o.servers,
      name: o.clientName,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    })
  } catch (err) {
    throw o.onError(`cannot connect to NATS at ${o.servers}`, err)
  }
  try {
    const jsm = await nc.jetstreamManager()
    if (!(await exists(() => jsm.streams.info(o.stream.name)))) {
      const stream: Partial<StreamConfig> & { name: string } = {
        name: o.stream.name,
        subjects: o.stream.subjects,
        retention: retentionOf(nats.RetentionPolicy, o.stream.retention),
        max_age: nats.nanos(o.stream.maxAgeMs),
        duplicate_window: nats.nanos(o.stream.duplicateWindowMs),
      }
      await jsm.streams.add(stream)
    }
    if (o.consumer !== undefined) await ensureConsumer(jsm, o.stream.name, o.consumer, nats)
  } catch (err) {
    await nc.close()
    throw o.onError(`cannot set up the JetStream stream ${o.stream.name}`, err)
  }
  return { nc, js: nc.jetstream() }
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  c: NonNullable<JetStreamOptions['consumer']>,
  nats: typeof import('nats'),
): Promise<void> {
  if (await exists(() => jsm.consumers.info(stream, c.durable))) return
  const config: Partial<ConsumerConfig> = {
    durable_name: c.durable,
    ack_policy: nats.AckPolicy.Explicit,
    ack_wait: nats.nanos(c.ackWaitMs),
    filter_subject: c.filterSubject,
  }
  await jsm.consumers.add(stream, config)
}

async function exists(info: () => Promise<unknown>): Promise<boolean> {
  return info().then(
    () => true,
    () => false,
  )
}

function retentionOf(policy: typeof import('nats').RetentionPolicy, r: StreamRetention) {
  return r === 'workqueue' ? policy.Workqueue : r === 'interest' ? policy.Interest : policy.Limits
}
