// Scale-out end to end: on a Cairn dev chain, one strategy service (in this process, ticked by hand)
// and two executor processes (`cairn arb start --role executor`, each with its own signing account
// and ArbExecutor) share a PostgreSQL database and a NATS JetStream work queue. A mispricing is
// traded exactly once; the same opportunity delivered again under another message id is recognised
// by its claim and not executed; a third executor process with an account already owned exits with
// the reason. Skipped with a message without PostgreSQL or NATS.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '@cairn/service-kit'
import { openPostgres } from '@cairn/service-kit/sql'
import { connect } from 'nats'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { encodeQueued } from '../../packages/arbitrage/src/queue/message.ts'
import {
  type ArbService,
  type ArbServiceOptions,
  startArbService,
} from '../../packages/arbitrage/src/service/service.ts'
import { PG_URL, postgresReachable } from '../../packages/arbitrage/test/store-backends.ts'
import { metric } from '../../packages/node/test/cli/cluster.ts'
import { type RunningNode, runCli, startCli } from '../../packages/node/test/cli/run-cli.ts'
import {
  addLiquidity,
  createPair,
  deployExecutor,
  deployFactory,
  deployToken,
  startCairn,
  swap,
  type TestChain,
  transfer,
} from './chain-harness.ts'

const E18 = 10n ** 18n
// dev accounts 0, 1 and 3 of the "test … junk" mnemonic
const KEYS = [
  'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
]
const NATS = process.env.CAIRN_TEST_NATS_URL ?? '127.0.0.1:4222'
const tag = `E${process.pid}_${Math.floor(Math.random() * 1e9)}`
const STREAM = `ARB_${tag}`
const SUBJECT = `cairn.arb.e2e.${tag}`
const logger = createLogger({ level: 'error', format: 'json' })

async function natsUp(): Promise<boolean> {
  try {
    const nc = await connect({ servers: NATS, timeout: 2_000, reconnect: false })
    await nc.close()
    return true
  } catch (err) {
    console.warn(`scale-out e2e skipped: NATS at ${NATS} unreachable (${(err as Error).message})`)
    return false
  }
}

/** Waits for `cond`, checking after each event-loop turn with a short pause; generous limit. */
async function until(cond: () => Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('scale-out: a strategy and two executors over NATS and PostgreSQL', () => {
  let up = false
  let c: TestChain
  let schema = ''
  const dir = mkdtempSync(join(tmpdir(), 'arb-nats-'))
  const services: ArbService[] = []
  let base: Omit<ArbServiceOptions, 'key' | 'executor' | 'runner'>
  let factories: Address[] = []
  const processes: RunningNode[] = []
  let execs: Address[] = []
  let W: Address
  let BW: Address

  beforeAll(async () => {
    up = (await postgresReachable()) && (await natsUp())
    if (!up) return
    c = await startCairn()
    const [f1, f2] = [await deployFactory(c), await deployFactory(c)]
    factories = [f1, f2]
    W = await deployToken(c, 10n ** 12n * E18)
    const A = await deployToken(c, 10n ** 12n * E18)
    const B = await deployToken(c, 10n ** 12n * E18)
    for (const t of [W, A, B]) await transfer(c, 0, t, c.accounts[2]!.address.toLowerCase() as Address, 10n ** 9n * E18)
    for (const [f, x, y] of [
      [f1, W, A],
      [f2, W, A],
      [f1, A, B],
      [f1, B, W],
    ] as const) {
      const p = await createPair(c, f, x, y)
      if (x === B) BW = p
      await addLiquidity(c, p, x, 10_000n * E18, y, 10_000n * E18)
    }
    execs = [await deployExecutor(c, 0), await deployExecutor(c, 1)]
    for (const [i, k] of KEYS.entries()) writeFileSync(join(dir, `key${i}`), `${k}\n`, { mode: 0o600 })
    schema = `arb_e2e_${process.pid}_${Math.floor(Math.random() * 1e9)}`
    const admin = await openPostgres(PG_URL, { max: 1 })
    await admin.exec(`CREATE SCHEMA ${schema}`)
    await admin.close()
    base = {
      rpc: c.url,
      databaseUrl: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      datadir: null,
      base: W,
      factories: [f1, f2].map((address) => ({ address, fee: { num: 997n, den: 1000n } })),
      maxHops: 3,
      pollMs: 3_600_000, // ticks by hand
      http: null,
      auth: { jwtSecret: null, apiKeys: [] },
      queue: { kind: 'nats', servers: NATS, stream: STREAM, subject: SUBJECT },
    }
  }, 180_000)

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop().catch(() => null)))
    for (const s of services.reverse()) await s.close().catch(() => {})
    if (up) {
      const nc = await connect({ servers: NATS })
      await (await nc.jetstreamManager()).streams.delete(STREAM).catch(() => {})
      await nc.close()
      const admin = await openPostgres(PG_URL, { max: 1 })
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      await admin.close()
    }
    await c?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The flags of `cairn arb start` for this test's chain, database and queue. */
  const flags = (key: number, executor: Address, id: string): string[] => [
    ...['--rpc', c.url, '--database-url', base.databaseUrl!, '--key-file', join(dir, `key${key}`)],
    ...['--executor', executor, '--base', W, '--max-hops', '3', '--poll-ms', '200', '--search-threads', '0'],
    ...factories.flatMap((f) => ['--factory', `${f}:30`]),
    ...['--queue', 'nats', '--nats-url', NATS, '--nats-stream', STREAM, '--nats-subject', SUBJECT],
    ...['--role', 'executor', '--executor-id', id, '--http.port', '0', '--log-level', 'info'],
  ]
  const LISTENING = /"address":"(http:\/\/[^"]+)"[^\n]*"msg":"arbitrage service listening"/
  const sum = async (name: string, labels: Record<string, string> = {}) =>
    (await Promise.all(processes.map((p) => metric(p.url, name, labels)))).reduce((a, b) => a + b, 0)

  it('trades a mispricing exactly once across two executor processes, and refuses a second owner of an account', async (ctx) => {
    if (!up) return ctx.skip()
    const strategy = await startArbService(
      {
        ...base,
        key: { keyFile: join(dir, 'key2') },
        executor: execs[0]!,
        runner: { role: 'strategy', executorId: 'strategy' },
      },
      { logger },
    )
    services.push(strategy)
    for (const [i, id] of ['x0', 'x1'].entries()) {
      processes.push(
        await startCli(flags(i, execs[i]!, id), { command: ['arb', 'start'], ready: LISTENING, timeoutMs: 120_000 }),
      )
    }
    // a third process with x0's account: refused, with the reason, before it serves anything
    const twin = await runCli(['arb', 'start', ...flags(0, execs[0]!, 'x0-twin')], { timeoutMs: 120_000 })
    expect(twin.code).not.toBe(0)
    expect(twin.stdout + twin.stderr).toMatch(/another executor holds the nonces/)

    await swap(c, 2, BW, W, 1500n * E18)
    await strategy.tick()
    const trades = () => strategy.store.listTrades()
    await until(async () => (await trades()).length >= 1, 'the trade')
    const [t] = await trades()
    expect(t!.status).toBe('success')
    expect(['x0', 'x1']).toContain(t!.executor)
    await until(
      async () => (await sum('cairn_arb_opportunities_total', { stage: 'executed' })) === 1,
      'the executed count',
    )

    // the same opportunity again under another message id (a second strategy instance past the
    // de-duplication window, a replayed message): its claim stops it
    const opp = (await strategy.store.listOpportunities()).find((o) => o.id === t!.opportunityId)!
    const nc = await connect({ servers: NATS })
    try {
      const q = {
        id: opp.id,
        block: opp.block,
        seenAt: opp.at.getTime(),
        opportunity: {
          cycle: { key: opp.cycleKey, pools: opp.pools as Address[], tokens: opp.tokens as Address[] },
          amountIn: opp.amountIn,
          amountOut: opp.amountIn + opp.grossProfit,
          grossProfit: opp.grossProfit,
          gasCost: opp.gasCost,
          netProfit: opp.netProfit,
          hopOuts: [],
        },
      }
      await nc.jetstream().publish(SUBJECT, encodeQueued(q), { msgID: `${opp.id}-replay` })
    } finally {
      await nc.close()
    }
    await until(async () => (await sum('cairn_arb_queue_duplicates_total')) === 1, 'the duplicate')
    expect(await trades()).toHaveLength(1)
    expect(await sum('cairn_arb_opportunities_total', { stage: 'executed' })).toBe(1)
    const claims = await strategy.sql.query('SELECT opportunity_id, owner FROM arb_claims')
    expect(claims.filter((r) => r.opportunity_id === t!.opportunityId)).toHaveLength(1)
    // Ctrl-C: each executor stops cleanly
    for (const p of processes.splice(0)) expect(await p.stop()).toBe(0)
  }, 400_000)
})
