// The reconciliation routes: declared asset sources (admin changes them, every change audited in
// its transaction; admin and auditor read them), runs requested (admin) and read (admin, auditor).
// The public face of a run is in the snapshot's public anchor answer (publicSummary).

import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { z } from 'zod'
import { appendAudit } from '../../kernel/audit.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import type { Sql } from '../../kernel/sql.ts'
import type { SnapshotStore } from '../../kernel/store.ts'
import { parseInput as parseWith } from '../../kernel/validate.ts'
import { type ReconciliationRun, type ReconciliationRuns, runUnknown } from './runs.ts'
import type { AssetSources } from './sources.ts'
import { CreateSource, RunQuery, RunRequest, UpdateSource } from './validate.ts'

/** The webhooks' parser (a 400 listing each field), pointing at this feature's docs. */
function parseInput<T>(schema: z.ZodType<T>, v: unknown, what: string): T {
  try {
    return parseWith(schema, v, what)
  } catch (err) {
    if (err instanceof CairnError)
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, err.message, {
        fault: 'caller',
        hint: 'see docs/reserves/reconciliation.md for the fields',
      })
    throw err
  }
}

export interface ReconciliationRouteDeps {
  sql: Sql
  sources: AssetSources
  runs: ReconciliationRuns
  store: SnapshotStore
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  who: (req: FastifyRequest) => Principal
  /** A run was queued (wakes this instance's worker). */
  wake: () => void
}

/** What the public snapshot answer shows of a run: the per-currency comparison and the blocks read. */
export function publicSummary(run: ReconciliationRun | null): Record<string, unknown> | null {
  if (!run?.result) return null
  return {
    id: run.id,
    status: run.state,
    at: run.finishedAt,
    currencies: run.result.currencies.map((c) => ({
      symbol: c.symbol,
      decimals: c.decimals,
      liabilities: c.liabilities,
      assets: c.assets,
      ratio: c.ratio,
      status: c.status,
    })),
    chains: run.result.chains.map((c) => ({ chainId: c.chainId, blockNumber: c.blockNumber })),
  }
}

export async function reconciliationRoutes(app: FastifyInstance, d: ReconciliationRouteDeps): Promise<void> {
  const { sql, sources, runs, who } = d
  const admin = d.guard(['admin'])
  const staff = d.guard(['admin', 'auditor'])
  const audit = (tx: Sql, p: Principal, action: string, details: Record<string, unknown>) =>
    appendAudit(tx, { actor: p.sub, role: p.role, action, details })
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id

  app.post('/v1/reconciliation/sources', admin, async (req, reply) => {
    const body = parseInput(CreateSource, req.body, 'asset source')
    const made = await sql.transaction(async (tx) => {
      const s = await sources.create(body, tx)
      // the source as the API shows it: the RPC URL's origin, never its path or query (API keys)
      const { createdAt: _c, updatedAt: _u, ...shown } = s
      await audit(tx, who(req), 'asset_source.created', shown)
      return s
    })
    return reply.code(201).send(made)
  })

  app.get('/v1/reconciliation/sources', staff, async () => ({ sources: await sources.list() }))

  app.get('/v1/reconciliation/sources/:id', staff, async (req) => sources.get(idOf(req)))

  app.patch('/v1/reconciliation/sources/:id', admin, async (req) => {
    const patch = parseInput(UpdateSource, req.body, 'asset source change')
    return sql.transaction(async (tx) => {
      const s = await sources.update(idOf(req), patch, tx)
      const { rpcUrl: _url, ...rest } = patch
      await audit(tx, who(req), 'asset_source.updated', {
        id: s.id,
        ...rest,
        ...(patch.rpcUrl !== undefined ? { rpc: s.rpc } : {}),
      })
      return s
    })
  })

  app.delete('/v1/reconciliation/sources/:id', admin, async (req, reply) => {
    await sql.transaction(async (tx) => {
      await sources.remove(idOf(req), tx)
      await audit(tx, who(req), 'asset_source.deleted', { id: idOf(req) })
    })
    return reply.code(204).send()
  })

  // a run now (of the snapshot given, else the newest built one); the worker of any instance runs it
  app.post('/v1/reconciliations', admin, async (req, reply) => {
    const body = parseInput(RunRequest, req.body, 'reconciliation request')
    let snapshotId = body.snapshotId
    if (snapshotId) await d.store.get(snapshotId)
    else {
      const r = await sql.query(`SELECT id FROM reserves_snapshots WHERE status = 'built' ORDER BY seq DESC LIMIT 1`)
      snapshotId = r[0]?.id as string | undefined
      if (!snapshotId) throw runUnknown('there is no built snapshot to reconcile')
    }
    const id = await sql.transaction(async (tx) => {
      const runId = (await runs.enqueue(snapshotId, 'manual', null, tx)) as string
      await audit(tx, who(req), 'reconciliation.requested', { id: runId, snapshotId })
      return runId
    })
    d.wake()
    return reply.code(202).send(await runs.get(id))
  })

  app.get('/v1/reconciliations', staff, async (req) => {
    const q = parseInput(RunQuery, req.query, 'query')
    return { reconciliations: await runs.list(q.snapshotId ?? null, q.limit) }
  })

  // the newest finished run (ok, shortfall or failed), of one snapshot with ?snapshotId=
  app.get('/v1/reconciliations/latest', staff, async (req) => {
    const q = parseInput(RunQuery, req.query, 'query')
    const run = await runs.latest(q.snapshotId ?? null)
    if (!run)
      throw runUnknown(
        q.snapshotId ? `no finished reconciliation of snapshot ${q.snapshotId}` : 'no reconciliation has finished yet',
      )
    return run
  })

  app.get('/v1/reconciliations/:id', staff, async (req) => runs.get(idOf(req)))
}
