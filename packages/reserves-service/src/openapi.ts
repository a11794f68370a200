import { compliancePaths } from './features/compliance/openapi.ts'
import { reconciliationPaths } from './features/reconciliation/openapi.ts'
import { DEPRECATED_ROUTES, deprecationKey, type RouteDeprecation } from './kernel/deprecation.ts'
import { ref, SCHEMAS } from './kernel/openapi-schemas.ts'

const json = (schema: Record<string, unknown>, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
})
const pathId = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'snapshot id' }
const query = (name: string, schema: Record<string, unknown>, description: string) => ({
  name,
  in: 'query',
  required: false,
  schema,
  description,
})

/**
 * The OpenAPI 3.1 document served at /docs: paths, roles, parameters and, for the routes the SDKs
 * call, JSON Schemas of their bodies (`components.schemas`).
 */
export function openApiDocument(
  deprecated: Readonly<Record<string, RouteDeprecation>> = DEPRECATED_ROUTES,
): Record<string, unknown> {
  const bearer = [{ bearer: [] }, { apiKey: [] }]
  const op = (summary: string, roles: string, extra: Record<string, unknown> = {}) => ({
    summary,
    description: `Roles: ${roles}.`,
    security: bearer,
    responses: {
      200: { description: 'OK' },
      401: { description: 'no or bad credentials' },
      403: { description: 'role not allowed' },
    },
    ...extra,
  })
  /** An operation answering 200 with `schema` (and the error body otherwise). */
  const typed = (
    summary: string,
    roles: string,
    schema: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ) =>
    op(summary, roles, {
      responses: {
        200: json(schema),
        401: json(ref('ErrorBody'), 'no or bad credentials'),
        403: json(ref('ErrorBody'), 'role not allowed'),
        404: json(ref('ErrorBody'), 'no such snapshot (or user)'),
      },
      ...extra,
    })
  return {
    openapi: '3.1.0',
    info: { title: 'Cairn reserves', version: '1', description: 'Proof of liabilities (proof format v1).' },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT (HS256 shared secret, or RS256/ES256 from the JWKS with iss and aud; claims sub, role)',
        },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
      schemas: SCHEMAS,
    },
    paths: markDeprecated(deprecated, {
      '/v1/snapshots': {
        post: op('Submit a snapshot (CSV, NDJSON or JSON); builds in the background', 'admin', {
          parameters: [
            query('id', { type: 'string' }, 'CSV/NDJSON: the snapshot id (default: generated)'),
            query('hash', ref('HashName'), "CSV/NDJSON: the hash (default: the service's)"),
            query('minDepth', { type: 'integer' }, 'CSV/NDJSON: the minimum tree depth'),
            query('currencies', { type: 'string' }, 'CSV/NDJSON: `BTC:8,ETH:18` (symbols and decimals)'),
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('SnapshotUpload') },
              'text/csv': { schema: { type: 'string' } },
              'application/x-ndjson': { schema: { type: 'string' } },
            },
          },
          responses: {
            202: json(ref('SnapshotAccepted'), '{id, status}'),
            400: json(ref('ErrorBody'), 'bad rows, every one listed; nothing stored'),
            409: json(ref('ErrorBody'), 'the id is building or built already'),
          },
        }),
        get: typed('List snapshots, newest first (cursor pagination)', 'admin, auditor, user', ref('SnapshotPage'), {
          parameters: [
            query('cursor', { type: 'string' }, 'the `next` of the previous page'),
            query('limit', { type: 'integer' }, '1 to 1,000 (default 100)'),
          ],
        }),
      },
      '/v1/snapshots/{id}': {
        get: typed('Status, root hash, totals, depth, currencies, anchor', 'admin, auditor, user', ref('Snapshot'), {
          parameters: [pathId],
        }),
      },
      '/v1/snapshots/{id}/next': {
        post: op(
          'The next snapshot of a chain, built incrementally from snapshot {id} and the balances that changed (docs/reserves/incremental.md)',
          'admin',
          {
            parameters: [pathId],
            requestBody: { required: true, content: { 'application/json': { schema: ref('NextSnapshot') } } },
            responses: {
              202: json(ref('NextAccepted'), '{id, status, base}'),
              400: json(ref('ErrorBody'), 'a bad change (named), or a chain a user was erased from: build in full'),
              404: json(ref('ErrorBody'), 'no snapshot {id}'),
              409: json(
                ref('ErrorBody'),
                '{id} is not built, or another snapshot already follows it; or the new id is taken',
              ),
            },
          },
        ),
      },
      '/v1/snapshots/{id}/proof': {
        get: typed("The caller's own inclusion proof", 'user', ref('Proof'), { parameters: [pathId] }),
      },
      '/v1/snapshots/{id}/proofs/{userId}': {
        get: typed("Any user's proof (audited)", 'admin, auditor', ref('Proof'), {
          parameters: [pathId, { name: 'userId', in: 'path', required: true, schema: { type: 'string' } }],
        }),
      },
      '/v1/snapshots/{id}/proofs/batch': {
        post: typed('Up to 1,000 proofs (audited)', 'admin, auditor', ref('ProofBatch'), {
          parameters: [pathId],
          requestBody: { required: true, content: { 'application/json': { schema: ref('ProofBatchRequest') } } },
        }),
      },
      '/v1/snapshots/{id}/leaves': {
        get: typed('Leaf hashes and balances, no user ids (offset, limit)', 'auditor, admin', ref('LeafPage'), {
          parameters: [
            pathId,
            query('offset', { type: 'integer' }, 'first leaf index (default 0)'),
            query('limit', { type: 'integer' }, '1 to 10,000 (default 1,000)'),
          ],
        }),
      },
      '/v1/snapshots/{id}/anchor': {
        put: typed(
          'Record where the root was anchored (chainId, txHash, blockNumber, registry, publisher)',
          'admin',
          ref('Snapshot'),
          {
            parameters: [pathId],
            requestBody: { required: true, content: { 'application/json': { schema: ref('Anchor') } } },
          },
        ),
        get: typed(
          'The anchored root, totals and anchor of a snapshot; public once anchored, 404 before',
          'anyone',
          ref('PublicAnchor'),
          { security: [], parameters: [pathId] },
        ),
      },
      '/v1/builds': { get: op('Build jobs (all=true: done ones too; limit)', 'admin') },
      '/v1/builds/{id}': { get: op("A snapshot's build job", 'admin') },
      '/v1/builds/{id}/cancel': { post: op('Cancel a build: rows removed, snapshot failed, id free again', 'admin') },
      '/v1/builds/{id}/retry': { post: op('Queue a failed or cancelled build again from its stored input', 'admin') },
      '/v1/webhooks': {
        post: op(
          'Register a webhook endpoint {url, events, description?, enabled?}; the secret is in this answer only',
          'admin',
          {
            responses: { 201: { description: 'the endpoint and its secret' }, 400: { description: 'what to fix' } },
          },
        ),
        get: op('Webhook endpoints (never their secrets)', 'admin'),
      },
      '/v1/webhooks/dead-letters': { get: op('Dead webhook deliveries of every endpoint (limit)', 'admin') },
      '/v1/webhooks/{id}': {
        get: op('One webhook endpoint', 'admin'),
        patch: op('Change url, events, description or enabled', 'admin'),
        delete: op('Delete the endpoint and its deliveries', 'admin', {
          responses: { 204: { description: 'deleted' } },
        }),
      },
      '/v1/webhooks/{id}/rotate-secret': {
        post: op('A new secret (in this answer only); the old one signs beside it for graceSeconds', 'admin'),
      },
      '/v1/webhooks/{id}/deliveries': {
        get: op("The endpoint's deliveries, newest first (state=pending|delivered|dead, limit)", 'admin'),
      },
      '/v1/webhooks/{id}/deliveries/{eventId}/redeliver': {
        post: op('Queue a dead or delivered delivery again (409 when pending)', 'admin'),
      },
      '/v1/webhooks/{id}/redeliver-dead': { post: op('Queue every dead delivery of the endpoint again', 'admin') },
      ...reconciliationPaths(op),
      ...compliancePaths(op),
      '/v1/audit': { get: op('The hash-chained audit log', 'admin, auditor') },
      '/v1/audit/verify': { get: op('Checks the audit chain', 'admin, auditor') },
      '/v1/ledger': {
        get: op("The live ledger's currencies, last batch number (seq) and user count", 'admin, auditor'),
      },
      '/v1/ledger/currencies': {
        put: op("Sets the ledger's currencies (refused with 409 once it holds balances in others)", 'admin'),
      },
      '/v1/ledger/changes': {
        post: op(
          'Applies a batch of changes whole or not at all ({changes: [{userId, deltas|balances|remove}]}, at most 10,000; Idempotency-Key header)',
          'admin',
        ),
      },
      '/v1/ledger/users/{userId}': { get: op("A user's current ledger balances (audited)", 'admin') },
      '/v1/ledger/freeze': {
        post: op(
          'Cuts the ledger between two batches into a snapshot and queues its build ({id?, hash?, minDepth?}); with {id?, base}, the next snapshot of the chain of snapshot `base` (a ledger freeze, or "latest"), built incrementally from the users changed since it',
          'admin',
          {
            responses: {
              202: {
                description:
                  "queued: {id, status, ledgerSeq, users}, and with a base {base, changes}; a repeat of the id with the same parameters answers the first freeze's 202 again (header Idempotent-Replayed: true)",
              },
              409: {
                description:
                  'the id is taken: its freeze is in progress (Retry-After), it was used with other parameters, or another snapshot holds it',
              },
            },
          },
        ),
      },
      '/v1/admin/backup': {
        post: op(
          'An online backup of a PGlite service (one at a time; audited); PostgreSQL: use pg_basebackup',
          'admin',
        ),
      },
      '/v1/me/history': {
        get: op(
          "The signed-in user's balances and roots in the built snapshots they are in, newest first (limit 1-100, cursor = next)",
          'user',
        ),
      },
      '/metrics': {
        get: op('Prometheus metrics (requests by route and status, proof latency, build time, cache)', 'anyone', {
          security: [],
        }),
      },
      '/v1/stream': {
        get: op(
          'WebSocket: snapshot.built, snapshot.anchored, proof.available (token in header or ?token=)',
          'admin, auditor, user',
        ),
      },
    }),
  }
}

type Paths = Record<string, Record<string, Record<string, unknown>>>

/** Marks the operations in `table` `deprecated: true` (their answers carry the headers). */
function markDeprecated(table: Readonly<Record<string, RouteDeprecation>>, paths: Paths): Paths {
  for (const [path, ops] of Object.entries(paths))
    for (const [method, op] of Object.entries(ops)) if (table[deprecationKey(method, path)]) op.deprecated = true
  return paths
}
