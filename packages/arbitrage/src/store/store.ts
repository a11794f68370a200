// What the arbitrage service keeps: pools and their reserve history, every opportunity and what was
// decided, trades and their realised profit, the executors' claims (the work queue's idempotency
// key), and the audit log. Amounts are numeric(78,0) (any uint256) and bigint in TypeScript.
import type { Row, Sql } from '@cairn/service-kit/sql'
import type { PoolInfo } from '../graph/token-graph.ts'

export interface OpportunityRecord {
  /** The idempotency key: the same opportunity seen twice (two executors, a redelivery) has one id. */
  id: string
  at: Date
  block: bigint
  cycleKey: string
  baseToken: string
  tokens: string[]
  pools: string[]
  amountIn: bigint
  grossProfit: bigint
  gasCost: bigint
  netProfit: bigint
  /** found, executed, simulation-failed, below-min-profit, skipped. */
  decision: string
  detail: string | null
}

export interface TradeRecord {
  txHash: string
  opportunityId: string
  at: Date
  block: bigint
  status: 'success' | 'reverted'
  token: string
  amountIn: bigint
  /** The base-token profit the contract reported (0 when reverted). */
  profit: bigint
  gasUsed: bigint
  gasPrice: bigint
  /** gasUsed × gasPrice in base units. */
  gasCostBase: bigint
  /** profit − gasCostBase: negative for a reverted trade. */
  realized: bigint
  /** Which executor process sent it. */
  executor: string
}

export interface PoolRow extends PoolInfo {
  updatedBlock: bigint
  updatedAt: Date
}

export interface PnlBucket {
  token: string
  /** Start of the bucket (ISO). */
  bucket: string
  trades: number
  reverted: number
  profit: bigint
  gasCost: bigint
  realized: bigint
}

export interface AuditRecord {
  seq: number
  at: string
  actor: string
  role: string
  action: string
  details: Record<string, unknown>
}

const big = (v: unknown): bigint => BigInt(String(v))
const s = (v: bigint) => v.toString()

function opportunityFrom(r: Row): OpportunityRecord {
  return {
    id: r.id as string,
    at: new Date(r.at as string),
    block: big(r.block),
    cycleKey: r.cycle_key as string,
    baseToken: r.base_token as string,
    tokens: r.tokens as string[],
    pools: r.pools as string[],
    amountIn: big(r.amount_in),
    grossProfit: big(r.gross_profit),
    gasCost: big(r.gas_cost),
    netProfit: big(r.net_profit),
    decision: r.decision as string,
    detail: (r.detail as string | null) ?? null,
  }
}

function tradeFrom(r: Row): TradeRecord {
  return {
    txHash: r.tx_hash as string,
    opportunityId: r.opportunity_id as string,
    at: new Date(r.at as string),
    block: big(r.block),
    status: r.status as 'success' | 'reverted',
    token: r.token as string,
    amountIn: big(r.amount_in),
    profit: big(r.profit),
    gasUsed: big(r.gas_used),
    gasPrice: big(r.gas_price),
    gasCostBase: big(r.gas_cost_base),
    realized: big(r.realized),
    executor: r.executor as string,
  }
}

export class ArbStore {
  constructor(readonly sql: Sql) {}

  /** Inserts or updates pools with their current reserves (multi-row statements of up to 1,000 pools). */
  async upsertPools(pools: readonly PoolInfo[], block: bigint, at: Date): Promise<void> {
    for (let i = 0; i < pools.length; i += 1000) {
      const chunk = pools.slice(i, i + 1000)
      const params: unknown[] = []
      const values = chunk.map((p, j) => {
        params.push(
          p.address,
          p.token0,
          p.token1,
          s(p.fee.num),
          s(p.fee.den),
          s(p.reserve0),
          s(p.reserve1),
          s(block),
          at,
        )
        const o = j * 9
        return `(${Array.from({ length: 9 }, (_, k) => `$${o + k + 1}`).join(',')})`
      })
      await this.sql.query(
        `INSERT INTO arb_pools (address, token0, token1, fee_num, fee_den, reserve0, reserve1, updated_block, updated_at)
         VALUES ${values.join(',')}
         ON CONFLICT (address) DO UPDATE SET reserve0 = EXCLUDED.reserve0, reserve1 = EXCLUDED.reserve1,
           updated_block = EXCLUDED.updated_block, updated_at = EXCLUDED.updated_at`,
        params,
      )
    }
  }

  /** Appends reserve observations to the history (one row per pool and block; statements of up to 2,000 rows). */
  async recordReserves(rows: readonly { pool: string; block: bigint; reserve0: bigint; reserve1: bigint; at: Date }[]) {
    for (let i = 0; i < rows.length; i += 2000) {
      const params: unknown[] = []
      const values = rows.slice(i, i + 2000).map((r, j) => {
        params.push(r.at, s(r.block), r.pool, s(r.reserve0), s(r.reserve1))
        const b = j * 5
        return `($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5})`
      })
      await this.sql.query(
        `INSERT INTO arb_reserves (at, block, pool, reserve0, reserve1) VALUES ${values.join(',')}`,
        params,
      )
    }
  }

  async listPools(limit = 1000, offset = 0): Promise<PoolRow[]> {
    const rows = await this.sql.query('SELECT * FROM arb_pools ORDER BY address LIMIT $1 OFFSET $2', [limit, offset])
    return rows.map((r) => ({
      address: r.address as `0x${string}`,
      token0: r.token0 as `0x${string}`,
      token1: r.token1 as `0x${string}`,
      fee: { num: big(r.fee_num), den: big(r.fee_den) },
      reserve0: big(r.reserve0),
      reserve1: big(r.reserve1),
      updatedBlock: big(r.updated_block),
      updatedAt: new Date(r.updated_at as string),
    }))
  }

  async reserveHistory(pool: string, since: Date, limit = 1000) {
    const rows = await this.sql.query(
      'SELECT * FROM arb_reserves WHERE pool = $1 AND at >= $2 ORDER BY at, block LIMIT $3',
      [pool, since, limit],
    )
    return rows.map((r) => ({
      at: new Date(r.at as string),
      block: big(r.block),
      pool: r.pool as string,
      reserve0: big(r.reserve0),
      reserve1: big(r.reserve1),
    }))
  }

  /** Records an opportunity and its decision; the same id and time again updates the decision. */
  async recordOpportunity(o: OpportunityRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO arb_opportunities (id, at, block, cycle_key, base_token, tokens, pools, amount_in, gross_profit, gas_cost, net_profit, decision, detail)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
       ON CONFLICT (id, at) DO UPDATE SET decision = EXCLUDED.decision, detail = EXCLUDED.detail`,
      [
        o.id,
        o.at,
        s(o.block),
        o.cycleKey,
        o.baseToken,
        JSON.stringify(o.tokens),
        JSON.stringify(o.pools),
        s(o.amountIn),
        s(o.grossProfit),
        s(o.gasCost),
        s(o.netProfit),
        o.decision,
        o.detail,
      ],
    )
  }

  /** Opportunities seen since `since`, newest first; `decision`: only those with it (or one of them). */
  async listOpportunities(
    q: { since?: Date; decision?: string | readonly string[]; limit?: number } = {},
  ): Promise<OpportunityRecord[]> {
    const decisions = q.decision === undefined ? null : typeof q.decision === 'string' ? [q.decision] : [...q.decision]
    const rows = await this.sql.query(
      `SELECT * FROM arb_opportunities WHERE at >= $1 AND ($2::text[] IS NULL OR decision = ANY($2::text[]))
       ORDER BY at DESC, id LIMIT $3`,
      [q.since ?? new Date(0), decisions, q.limit ?? 100],
    )
    return rows.map(opportunityFrom)
  }

  async recordTrade(t: TradeRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO arb_trades (tx_hash, opportunity_id, at, block, status, token, amount_in, profit, gas_used, gas_price, gas_cost_base, realized, executor)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT (tx_hash) DO NOTHING`,
      [
        t.txHash,
        t.opportunityId,
        t.at,
        s(t.block),
        t.status,
        t.token,
        s(t.amountIn),
        s(t.profit),
        s(t.gasUsed),
        s(t.gasPrice),
        s(t.gasCostBase),
        s(t.realized),
        t.executor,
      ],
    )
  }

  async listTrades(q: { since?: Date; limit?: number } = {}): Promise<TradeRecord[]> {
    const rows = await this.sql.query('SELECT * FROM arb_trades WHERE at >= $1 ORDER BY at DESC, tx_hash LIMIT $2', [
      q.since ?? new Date(0),
      q.limit ?? 100,
    ])
    return rows.map(tradeFrom)
  }

  /** Realised profit and loss per token and time bucket (`hour` or `day`), oldest first. */
  async pnl(q: { since?: Date; bucket?: 'hour' | 'day' } = {}): Promise<PnlBucket[]> {
    const unit = q.bucket === 'day' ? 'day' : 'hour'
    const rows = await this.sql.query(
      `SELECT token, date_trunc('${unit}', at) AS bucket, count(*) AS trades,
         count(*) FILTER (WHERE status = 'reverted') AS reverted,
         sum(profit) AS profit, sum(gas_cost_base) AS gas_cost, sum(realized) AS realized
       FROM arb_trades WHERE at >= $1 GROUP BY token, bucket ORDER BY bucket, token`,
      [q.since ?? new Date(0)],
    )
    return rows.map((r) => ({
      token: r.token as string,
      bucket: new Date(r.bucket as string).toISOString(),
      trades: Number(r.trades),
      reverted: Number(r.reverted),
      profit: big(r.profit),
      gasCost: big(r.gas_cost),
      realized: big(r.realized),
    }))
  }

  /** The realised result of trades since `since` (the daily loss limit reads it at start-up). */
  async realizedSince(since: Date): Promise<bigint> {
    const rows = await this.sql.query('SELECT coalesce(sum(realized), 0) AS r FROM arb_trades WHERE at >= $1', [since])
    return big(rows[0]?.r ?? 0)
  }

  /**
   * Claims an opportunity for `owner`: true for the first caller, false for every later one (another
   * executor, a redelivered message). The work queue's idempotency key, shared through the database.
   */
  async claim(opportunityId: string, owner: string, at: Date): Promise<boolean> {
    const rows = await this.sql.query(
      'INSERT INTO arb_claims (opportunity_id, owner, claimed_at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING RETURNING owner',
      [opportunityId, owner, at],
    )
    return rows.length === 1
  }

  /**
   * Takes (or keeps) the signing account for `owner`: true when no other owner holds it with a
   * heartbeat newer than `staleMs`. Called at start and on every tick as the heartbeat: two
   * executors never hand out nonces for one account.
   */
  async holdSigner(account: string, owner: string, now: Date, staleMs: number): Promise<boolean> {
    const rows = await this.sql.query(
      `INSERT INTO arb_signers (account, owner, heartbeat) VALUES ($1,$2,$3)
       ON CONFLICT (account) DO UPDATE SET owner = EXCLUDED.owner, heartbeat = EXCLUDED.heartbeat
       WHERE arb_signers.owner = EXCLUDED.owner OR arb_signers.heartbeat < $4 RETURNING owner`,
      [account.toLowerCase(), owner, now, new Date(now.getTime() - staleMs)],
    )
    return rows.length === 1
  }

  async releaseSigner(account: string, owner: string): Promise<void> {
    await this.sql.query('DELETE FROM arb_signers WHERE account = $1 AND owner = $2', [account.toLowerCase(), owner])
  }

  /** Releases a claim whose opportunity was not sent (it may be taken again). */
  async releaseClaim(opportunityId: string, owner: string): Promise<void> {
    await this.sql.query('DELETE FROM arb_claims WHERE opportunity_id = $1 AND owner = $2', [opportunityId, owner])
  }

  /** Appends to the audit log (the table refuses updates and deletes). */
  async audit(e: { actor: string; role: string; action: string; details?: Record<string, unknown> }, tx?: Sql) {
    const rows = await (tx ?? this.sql).query(
      'INSERT INTO arb_audit (at, actor, role, action, details) VALUES (now(), $1, $2, $3, $4) RETURNING seq',
      [e.actor, e.role, e.action, JSON.stringify(e.details ?? {})],
    )
    return Number(rows[0]?.seq)
  }

  async listAudit(afterSeq = 0, limit = 100): Promise<AuditRecord[]> {
    const rows = await this.sql.query('SELECT * FROM arb_audit WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit])
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: new Date(r.at as string).toISOString(),
      actor: r.actor as string,
      role: r.role as string,
      action: r.action as string,
      details: r.details as Record<string, unknown>,
    }))
  }
}
