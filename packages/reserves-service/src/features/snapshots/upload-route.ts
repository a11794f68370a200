// POST /v1/snapshots: a snapshot in (admin). JSON bodies (at most maxSnapshotJsonBytes) are parsed
// here; CSV and NDJSON bodies, of any size, are read, checked and sealed on an upload thread
// (jobs/upload.ts) while this one serves. The build is queued; the answer is 202.
import { randomBytes } from 'node:crypto'
import type { Readable } from 'node:stream'
import { checkCurrencies, checkTotals, ReservesErrorCode, RowReader } from '@cairn/reserves'
import type { Currency } from '@cairn/reserves/verifier'
import { CairnError } from '@cairn/utils'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { z } from 'zod'
import { sealInput } from '../../jobs/build-input.ts'
import { checkNewId, type QueueBuildDeps, queueBuild } from '../../jobs/queue-build.ts'
import { readUpload } from '../../jobs/upload.ts'
import type { RouteGuard } from '../../kernel/access.ts'
import type { AtRestKey } from '../../kernel/at-rest.ts'
import type { Principal, Role } from '../../kernel/auth.ts'
import { parse } from '../../kernel/http.ts'
import { JsonSnapshot, SnapshotQuery } from './schemas.ts'

export interface UploadRouteDeps {
  key: AtRestKey
  queue: QueueBuildDeps
  defaultHash: 'sha256' | 'keccak256'
  defaultMinDepth: number
  /** Largest JSON snapshot upload. */
  maxSnapshotJsonBytes: number
  guard: (roles: Role[]) => RouteGuard
  who: (req: FastifyRequest) => Principal
}

function parseCurrencyList(text: string | undefined): Currency[] | null {
  if (!text) return null
  return text.split(',').map((part) => {
    const [symbol, decimals] = part.split(':')
    return { symbol: (symbol ?? '').trim(), decimals: Number(decimals ?? 0) }
  })
}

export function uploadRoute(app: FastifyInstance, d: UploadRouteDeps): void {
  const { key, queue } = d
  const { store } = queue
  app.post('/v1/snapshots', { ...d.guard(['admin']), bodyLimit: d.maxSnapshotJsonBytes }, async (req, reply) => {
    const p = d.who(req)
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim()
    let json: z.infer<typeof JsonSnapshot> | null = null
    let query: z.infer<typeof SnapshotQuery> | null = null
    if (type === 'application/json') json = parse(JsonSnapshot, req.body)
    else if (type === 'text/csv' || type.endsWith('ndjson')) query = parse(SnapshotQuery, req.query)
    else
      throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `content type ${type || '(none)'} is not a snapshot`, {
        fault: 'caller',
        hint: 'send text/csv, application/x-ndjson or application/json',
      })
    const given = json ? json.currencies : parseCurrencyList(query?.currencies)
    if (given) checkCurrencies(given)
    const hash = json?.hash ?? query?.hash ?? d.defaultHash
    const minDepth = json?.minDepth ?? query?.minDepth ?? d.defaultMinDepth
    const snapshotId =
      json?.id ?? query?.id ?? `snap-${new Date().toISOString().slice(0, 10)}-${randomBytes(6).toString('hex')}`
    // An id is never reused for another tree; a failed (or cancelled) snapshot's id may be uploaded again.
    const existing = await checkNewId(store, snapshotId)
    let snap: { currencies: Currency[]; users: number; parts: Uint8Array[] }
    if (json) {
      const reader = new RowReader('ndjson', json.currencies)
      for (const e of json.entries) reader.push(JSON.stringify(e))
      const read = reader.finish()
      checkTotals(read.entries, read.currencies.length, minDepth)
      snap = {
        currencies: read.currencies,
        users: read.entries.length,
        parts: sealInput(key, snapshotId, read.entries),
      }
    } else
      snap = await readUpload(req.body as Readable, {
        format: type === 'text/csv' ? 'csv' : 'ndjson',
        currencies: given,
        snapshotId,
        minDepth,
        key,
      })
    await queueBuild(
      queue,
      { actor: p.sub, role: p.role, requestId: req.id },
      { id: snapshotId, hash, minDepth, currencies: snap.currencies, users: snap.users, parts: snap.parts },
      existing,
    )
    return reply.code(202).send({ id: snapshotId, status: 'building' })
  })
}
