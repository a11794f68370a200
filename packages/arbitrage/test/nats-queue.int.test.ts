// The JetStream work queue with two executor processes' consumers on one stream (two connections,
// one durable): N opportunities, each published twice, one delivery failing once — each executed
// exactly once. Skipped with a message when NATS is not at 127.0.0.1:4222.
import { createLogger } from '@cairn/service-kit'
import { connect } from 'nats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NatsQueue } from '../src/queue/nats-queue.ts'
import { type ClaimedHandler, claimed, MemoryClaims, type OpportunityHandler } from '../src/queue/queue.ts'
import { queued } from './queue-fixtures.ts'

const SERVERS = process.env.CAIRN_TEST_NATS_URL ?? '127.0.0.1:4222'
const logger = createLogger({ level: 'silent', format: 'json' })
const tag = `T${process.pid}_${Math.floor(Math.random() * 1e9)}`
const opts = {
  servers: SERVERS,
  stream: `ARB_${tag}`,
  subject: `cairn.arb.test.${tag}`,
  durable: 'executors',
  ackWaitMs: 5_000,
}

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
    await (await nc.jetstreamManager()).streams.delete(opts.stream)
  } catch {
    // never made
  } finally {
    await nc.close()
  }
})

describe('NATS JetStream work queue', () => {
  it('two consumers on one stream execute each of N opportunities exactly once', async (ctx) => {
    if (!up) return ctx.skip()
    const N = 60
    const publisher = await NatsQueue.open(opts, { logger })
    const a = await NatsQueue.open(opts, { logger })
    const b = await NatsQueue.open(opts, { logger })
    // the shared claims stand for the database's arb_claims table both executors see
    const claims = new MemoryClaims()
    const executed = new Map<string, string[]>()
    let failedOnce = false
    let resolveAll: () => void = () => {}
    const all = new Promise<void>((r) => {
      resolveAll = r
    })
    const executor =
      (name: string): ClaimedHandler =>
      async (q) => {
        executed.set(q.id, [...(executed.get(q.id) ?? []), name])
        if (executed.size === N) resolveAll()
        return true
      }
    const withFailure = (name: string): OpportunityHandler => {
      const inner = claimed(claims, name, executor(name))
      return async (q) => {
        // the first delivery to this consumer fails before its claim: JetStream delivers it again
        if (!failedOnce) {
          failedOnce = true
          throw new Error('executor hiccup')
        }
        await inner(q)
      }
    }
    const stops = [await a.consume(withFailure('a')), await b.consume(claimed(claims, 'b', executor('b')))]
    try {
      for (let i = 0; i < N; i++) {
        await publisher.publish(queued(i))
        await publisher.publish(queued(i)) // a second strategy instance, or a retry: de-duplicated
      }
      await all
      expect(failedOnce).toBe(true)
      expect(executed.size).toBe(N)
      for (const [, by] of executed) expect(by).toHaveLength(1)
      const ids = new Set(Array.from({ length: N }, (_, i) => queued(i).id))
      expect(new Set(executed.keys())).toEqual(ids)
    } finally {
      for (const s of stops) await s()
      await a.close()
      await b.close()
      await publisher.close()
    }
  }, 60_000)
})
