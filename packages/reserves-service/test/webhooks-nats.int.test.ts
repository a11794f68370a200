// The outbox relayed to NATS JetStream (127.0.0.1:4222; skipped with a message when absent): every
// event on `<prefix>.<type>` with Nats-Msg-Id = the event id, in order, once; a relay restarted over
// rows it had already published does not publish them again, and events recorded while it was
// stopped go out when it starts. A fresh stream and subject prefix per run, deleted afterwards.
import { randomBytes } from 'node:crypto'
import { silentLogger } from '@cairn/utils'
import { type JsMsg, StringCodec } from 'nats'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NatsRelay } from '../src/features/webhooks/nats-relay.ts'
import { recordEvent } from '../src/kernel/outbox.ts'
import type { Sql } from '../src/kernel/sql.ts'
import { openPglite } from '../src/kernel/sql-pglite.ts'
import { migrate } from '../src/schema.ts'
import { connectJetStream, NATS } from './nats-harness.ts'

const jetStream = await connectJetStream()
const natsDown = jetStream.down
const nc = jetStream.nc
if (natsDown) console.warn(`skipping the NATS relay test: JetStream at 127.0.0.1:4222 unavailable (${natsDown})`)

describe.skipIf(natsDown !== null)('webhook events on NATS JetStream', { timeout: 60_000 }, () => {
  const tag = randomBytes(4).toString('hex')
  const stream = `CAIRN_RESERVES_TEST_${tag}`
  const prefix = `cairn.test.${tag}.events`
  let sql: Sql
  beforeAll(async () => {
    sql = await openPglite(null)
    await migrate(sql)
  })
  afterAll(async () => {
    await (await nc?.jetstreamManager())?.streams.delete(stream).catch(() => {})
    await nc?.close()
    await sql?.close()
  })

  /** Every message in the stream so far, in order. */
  async function messages(): Promise<JsMsg[]> {
    const js = nc!.jetstream()
    const consumer = await js.consumers.get(stream)
    const out: JsMsg[] = []
    const info = await (await nc!.jetstreamManager()).streams.info(stream)
    if (info.state.messages === 0) return out
    const batch = await consumer.fetch({ max_messages: info.state.messages, expires: 2000 })
    for await (const m of batch) {
      out.push(m)
      if (out.length === info.state.messages) break
    }
    return out
  }

  it('publishes each event once, in order, with its id as Nats-Msg-Id; survives a relay restart', async () => {
    const registry = new Registry()
    const open = () =>
      NatsRelay.open(
        { servers: NATS, stream, subjectPrefix: prefix, pollMs: 50 },
        { sql, logger: silentLogger, registry },
      )
    const ids: string[] = []
    await sql.transaction(async (tx) => {
      for (let i = 0; i < 5; i++)
        ids.push(
          (await recordEvent(tx, i % 2 ? 'snapshot.built' : 'snapshot.created', { snapshotId: `n${i}` })).event.id,
        )
    })
    const first = await open()
    expect(await first.relayOnce()).toBe(5)
    expect(await first.relayOnce()).toBe(0)
    // a row whose mark was lost (the relay died between publishing and marking) goes again; the stream drops it
    await sql.query(`UPDATE reserves_outbox SET relayed_at = NULL WHERE id = $1`, [ids[4]])
    expect(await first.relayOnce()).toBe(1)
    await first.stop()
    // recorded while no relay runs: published by the next one, which starts polling
    await sql.transaction(async (tx) => {
      for (let i = 5; i < 7; i++)
        ids.push((await recordEvent(tx, 'snapshot.anchored', { snapshotId: `n${i}` })).event.id)
    })
    const second = await open()
    second.start()
    const sc = StringCodec()
    const got = await (async () => {
      for (let i = 0; i < 100; i++) {
        const m = await messages()
        if (m.length >= 7) return m
        await new Promise((r) => setTimeout(r, 50))
      }
      throw new Error('timed out waiting for 7 messages')
    })()
    await second.stop()
    expect(got).toHaveLength(7)
    expect(got.map((m) => m.headers?.get('Nats-Msg-Id'))).toEqual(ids)
    const bodies = got.map((m) => JSON.parse(sc.decode(m.data)) as { id: string; type: string })
    expect(bodies.map((b) => b.id)).toEqual(ids)
    expect(got.map((m) => m.subject)).toEqual(bodies.map((b) => `${prefix}.${b.type}`))
    const metric = (await registry.getSingleMetric('cairn_reserves_nats_events_total')!.get()).values
    expect(metric.find((v) => v.labels.outcome === 'published')?.value).toBe(8)
    expect(metric.find((v) => v.labels.outcome === 'failed')?.value).toBe(0)
  })
})
