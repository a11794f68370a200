// Ledger batches from NATS JetStream (127.0.0.1:4222; skipped with a message when absent): each
// message is applied once, in the stream's order; a second message with the same id changes
// nothing; a refused batch is terminated, audited and counted without holding back the next; a
// consumer stopped mid-stream and started again loses and repeats nothing; a database failure is
// nak'ed and retried without a later batch overtaking it. A fresh stream and subject per run.
import { randomBytes } from 'node:crypto'
import { silentLogger } from '@cairn/utils'
import { headers, StringCodec } from 'nats'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LedgerNatsConsumer } from '../src/features/ledger/nats-consumer.ts'
import { LedgerStore } from '../src/features/ledger/store.ts'
import { parseKeyFile } from '../src/kernel/at-rest.ts'
import { listAudit } from '../src/kernel/audit.ts'
import { type Sql, storageError } from '../src/kernel/sql.ts'
import { openPglite } from '../src/kernel/sql-pglite.ts'
import { migrate } from '../src/schema.ts'
import { connectJetStream, NATS } from './nats-harness.ts'

const jetStream = await connectJetStream()
const natsDown = jetStream.down
const nc = jetStream.nc
if (natsDown) console.warn(`skipping the ledger NATS test: JetStream at 127.0.0.1:4222 unavailable (${natsDown})`)

const key = parseKeyFile('5a'.repeat(32))
const sc = StringCodec()

/** The real database, with a switch that makes every statement fail as an unreachable one does. */
function switchable(sql: Sql): Sql & { down: boolean } {
  const s: Sql & { down: boolean } = {
    down: false,
    driver: sql.driver,
    close: () => sql.close(),
    exec: (text: string) => sql.exec(text),
    query: ((text: string, params?: unknown[]) =>
      s.down
        ? Promise.reject(storageError(new Error('connect ECONNREFUSED 127.0.0.1:5432'), 'query'))
        : sql.query(text, params)) as Sql['query'],
    transaction: <T>(fn: (tx: Sql) => Promise<T>) =>
      s.down
        ? Promise.reject(storageError(new Error('connect ECONNREFUSED 127.0.0.1:5432'), 'transaction'))
        : sql.transaction(fn),
  }
  return s
}

describe.skipIf(natsDown !== null)('ledger batches from NATS JetStream', { timeout: 90_000 }, () => {
  const tag = randomBytes(4).toString('hex')
  const stream = `CAIRN_RESERVES_LEDGER_TEST_${tag}`
  const subject = `cairn.test.${tag}.ledger`
  let raw: Sql
  let sql: Sql & { down: boolean }
  let ledger: LedgerStore
  const registry = new Registry()
  const open = () =>
    LedgerNatsConsumer.open(
      { servers: NATS, subject, stream, durable: `ledger-${tag}`, retry: { baseMs: 200, maxMs: 400 } },
      { sql, key, logger: silentLogger, registry },
    )
  let consumer: LedgerNatsConsumer | null = null

  beforeAll(async () => {
    raw = await openPglite(null)
    await migrate(raw)
    sql = switchable(raw)
    ledger = new LedgerStore(sql, key)
    await ledger.setCurrencies([{ symbol: 'BTC', decimals: 8 }], { sub: 'ops', role: 'admin' })
  })
  afterAll(async () => {
    await consumer?.stop()
    await (await nc?.jetstreamManager())?.streams.delete(stream).catch(() => {})
    await nc?.close()
    await raw?.close()
  })

  const publish = async (id: string | null, body: unknown) => {
    const h = headers()
    if (id !== null) h.set('Nats-Msg-Id', id)
    return nc!.jetstream().publish(subject, sc.encode(typeof body === 'string' ? body : JSON.stringify(body)), {
      headers: h,
    })
  }
  const deposit = (userId: string, amount: number) => ({ changes: [{ userId, deltas: { BTC: `+${amount}` } }] })
  const btc = async (u: string) => (await ledger.balances(u))?.balances.BTC
  const outcomes = async () =>
    Object.fromEntries(
      (await registry.getSingleMetric('cairn_reserves_ledger_nats_batches_total')!.get()).values.map((v) => [
        v.labels.outcome,
        v.value,
      ]),
    )
  const until = async (what: string, done: () => Promise<boolean>, ms = 30_000) => {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      if (await done()) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`timed out waiting for ${what}`)
  }
  /** Messages the durable has not yet acked or terminated. */
  const unfinished = async () => {
    const info = await (await nc!.jetstreamManager()).consumers.info(stream, `ledger-${tag}`)
    return info.num_pending + info.num_ack_pending
  }

  it('applies each batch once, in order; a repeated message id changes nothing; a refused batch is terminated', async () => {
    consumer = await open()
    expect(await outcomes()).toEqual({ applied: 0, replayed: 0, refused: 0, retried: 0 })
    consumer.start()
    await publish('b1', deposit('alice', 100))
    // the same id again: JetStream drops it within its duplicate window
    expect((await publish('b1', deposit('alice', 100))).duplicate).toBe(true)
    // withdrawals that only fit after the deposits before them: order matters
    await publish('b2', { changes: [{ userId: 'alice', deltas: { BTC: '-60' } }] })
    // refused by the ledger (would go below 0), then by its shape, then for want of an id
    await publish('bad-1', { changes: [{ userId: 'alice', deltas: { BTC: '-1000' } }] })
    await publish('bad-2', 'not json')
    await publish(null, deposit('carol', 1))
    await publish('b3', {
      changes: [
        { userId: 'alice', deltas: { BTC: '-40' } },
        { userId: 'bob', balances: { BTC: '7' } },
      ],
    })
    await until('every message handled', async () => (await unfinished()) === 0)
    expect(await btc('alice')).toBe('0')
    expect(await btc('bob')).toBe('7')
    expect(await ledger.balances('carol')).toBeNull()
    expect((await ledger.state()).seq).toBe(3)
    expect(await outcomes()).toEqual({ applied: 3, replayed: 0, refused: 3, retried: 0 })
    const audit = await listAudit(raw, 0, 1000)
    expect(audit.filter((e) => e.action === 'ledger.changed').map((e) => e.actor)).toEqual(
      Array(3).fill(`nats:${subject}`),
    )
    const refused = audit.filter((e) => e.action === 'ledger.refused')
    expect(refused.map((e) => [e.actor, e.role, e.details.msgId, e.details.code])).toEqual([
      [`nats:${subject}`, 'system', 'bad-1', 'RESERVES_INPUT_INVALID'],
      [`nats:${subject}`, 'system', 'bad-2', 'RESERVES_BAD_OPTIONS'],
      [`nats:${subject}`, 'system', '', 'RESERVES_BAD_OPTIONS'],
    ])
    // no user id in the audit log
    expect(JSON.stringify(refused)).not.toMatch(/alice|carol/)
  })

  it('a batch applied but never acked (a crash between commit and ack) is replayed, not applied again', async () => {
    // as if a consumer committed b4 and died before its ack: the ledger already holds the key
    await ledger.apply(deposit('dave', 5).changes, {
      actor: `nats:${subject}`,
      role: 'system',
      requestId: 'crashed',
      idempotencyKey: 'b4',
      at: new Date(),
    })
    await publish('b4', deposit('dave', 5))
    await until('b4 handled', async () => (await outcomes()).replayed === 1)
    expect(await btc('dave')).toBe('5')
    expect((await ledger.state()).seq).toBe(4)
  })

  it('stopped mid-stream and started again, it loses no batch and applies none twice', async () => {
    const before = (await ledger.state()).seq
    const applied0 = (await outcomes()).applied!
    for (let i = 0; i < 20; i++) await publish(`s${i}`, deposit('erin', i + 1))
    await until('a few batches applied', async () => (await ledger.state()).seq >= before + 5)
    await consumer!.stop()
    const midway = (await ledger.state()).seq - before
    expect(await unfinished()).toBe(20 - midway)
    // published while no consumer runs
    for (let i = 20; i < 30; i++) await publish(`s${i}`, deposit('erin', i + 1))
    expect((await ledger.state()).seq - before).toBe(midway)
    consumer = await open()
    consumer.start()
    await until('every batch applied', async () => (await unfinished()) === 0)
    expect((await ledger.state()).seq - before).toBe(30)
    expect(await btc('erin')).toBe(String((30 * 31) / 2))
    expect((await outcomes()).applied! - applied0).toBe(30)
  })

  it('a database failure is nak’ed and retried; the batch after it waits its turn', async () => {
    const start = await outcomes()
    sql.down = true
    await publish('w1', { changes: [{ userId: 'frank', deltas: { BTC: '+10' } }] })
    await publish('w2', { changes: [{ userId: 'frank', deltas: { BTC: '-10' } }] })
    await until('a retry', async () => (await outcomes()).retried >= start.retried! + 2)
    expect(await unfinished()).toBe(2)
    sql.down = false
    await until('both applied', async () => (await unfinished()) === 0)
    // w2 after w1: had it overtaken, it would have been refused (frank would have gone below 0)
    expect(await btc('frank')).toBe('0')
    const end = await outcomes()
    expect(end.applied! - start.applied!).toBe(2)
    expect(end.refused).toBe(start.refused)
  })
})
