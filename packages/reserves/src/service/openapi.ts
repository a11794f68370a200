/** The OpenAPI 3.1 document served at /docs (paths, roles and responses; bodies in prose). */
export function openApiDocument(): Record<string, unknown> {
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
    },
    paths: {
      '/v1/snapshots': {
        post: op('Submit a snapshot (CSV, NDJSON or JSON); builds in the background', 'admin', {
          responses: {
            202: { description: '{id}' },
            400: { description: 'bad rows, every one listed; nothing stored' },
          },
        }),
        get: op('List snapshots, newest first (cursor pagination)', 'admin, auditor, user'),
      },
      '/v1/snapshots/{id}': { get: op('Status, root hash, totals, depth, currencies, anchor', 'admin, auditor, user') },
      '/v1/snapshots/{id}/proof': { get: op("The caller's own inclusion proof", 'user') },
      '/v1/snapshots/{id}/proofs/{userId}': { get: op("Any user's proof (audited)", 'admin, auditor') },
      '/v1/snapshots/{id}/proofs/batch': { post: op('Up to 1,000 proofs (audited)', 'admin, auditor') },
      '/v1/snapshots/{id}/leaves': {
        get: op('Leaf hashes and balances, no user ids (offset, limit)', 'auditor, admin'),
      },
      '/v1/snapshots/{id}/anchor': {
        put: op('Record where the root was anchored (chainId, txHash, blockNumber, registry, publisher)', 'admin'),
        get: op('The anchored root, totals and anchor of a snapshot; public once anchored, 404 before', 'anyone', {
          security: [],
        }),
      },
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
      '/v1/audit': { get: op('The hash-chained audit log', 'admin, auditor') },
      '/v1/audit/verify': { get: op('Checks the audit chain', 'admin, auditor') },
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
    },
  }
}
