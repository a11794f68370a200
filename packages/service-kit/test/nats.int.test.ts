// openJetStream, the one NATS connector of the services: an unreachable server is the service's own
// error; a stream and a durable consumer are made once with the asked retention and windows, and a
// second open finds them. Skipped with a message when NATS is not at 127.0.0.1:4222.
import { createServer } from 'node:net'
import { CairnError } from '@cairn/utils'
import { connect } from 'nats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ServiceErrorCode } from '../src/errors.ts'
import { type JetStreamOptions, openJetStream } from '../src/nats.ts'

const SERVERS = process.env.CAIRN_TEST_NATS_URL ?? '127.0.0.1:4222'
const tag = `T${process.pid}_${Math.floor(Math.random() * 1e9)}`
const onError = (what: string, cause: unknown) =>
  new CairnError(ServiceErrorCode.OUTBOUND_FAILED, `${what}: ${(cause as Error).message}`, {
    fault: 'transient',
    cause,
  })
const options = (servers: string): JetStreamOptions => ({
  servers,
  clientName: 'cairn-test',
  stream: {
    name: `KIT_${tag}`,
    subjects: [`cairn.kit.${tag}`],
    retention: 'workqueue',
    maxAgeMs: 60_000,
    duplicateWindowMs: 30_000,
  },
  consumer: { durable: 'workers', ackWaitMs: 5_000, filterSubject: `cairn.kit.${tag}` },
  onError,
})

let up = false
beforeAll(async () => {
  try {
    const nc = await connect({ servers: SERVERS, timeout: 2_000, reconnect: false })
    await nc.close()
    up = true
  } catch (err) {
    console.warn(`NATS tests skipped: ${SERVERS} unreachable (${(err as Error).message})`)
  }
})

afterAll(async () => {
  if (!up) return
  const nc = await connect({ servers: SERVERS })
  try {
    await (await nc.jetstreamManager()).streams.delete(`KIT_${tag}`)
  } catch {
    // never made
  } finally {
    await nc.close()
  }
})

describe('openJetStream', () => {
  it('an unreachable server is the service error, naming the address', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port
        srv.close(() => resolve(p))
      })
    })
    const err = await openJetStream(options(`127.0.0.1:${port}`)).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CairnError)
    expect((err as CairnError).code).toBe(ServiceErrorCode.OUTBOUND_FAILED)
    expect((err as Error).message).toContain(`cannot connect to NATS at 127.0.0.1:${port}`)
  })

  it('makes the stream and the durable consumer once, as asked; a second open finds them', async (ctx) => {
    if (!up) return ctx.skip()
    const first = await openJetStream(options(SERVERS))
    const second = await openJetStream(options(SERVERS))
    try {
      const jsm = await first.nc.jetstreamManager()
      const info = await jsm.streams.info(`KIT_${tag}`)
      expect(info.config.retention).toBe('workqueue')
      expect(info.config.subjects).toEqual([`cairn.kit.${tag}`])
      expect(info.config.max_age).toBe(60_000 * 1_000_000)
      expect(info.config.duplicate_window).toBe(30_000 * 1_000_000)
      const consumer = await jsm.consumers.info(`KIT_${tag}`, 'workers')
      expect(consumer.config).toMatchObject({ ack_policy: 'explicit', ack_wait: 5_000 * 1_000_000 })
      // A message published through one handle is consumed through the other.
      await first.js.publish(`cairn.kit.${tag}`, new TextEncoder().encode('x'), { msgID: 'm1' })
      const c = await second.js.consumers.get(`KIT_${tag}`, 'workers')
      const m = await c.next({ expires: 5_000 })
      expect(m === null ? null : new TextDecoder().decode(m.data)).toBe('x')
      m?.ack()
    } finally {
      await first.nc.close()
      await second.nc.close()
    }
  })
})
