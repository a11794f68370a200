// The OpenAPI 3.1 document served at /docs: the auth schemes this instance accepts and the rate
// limits it applies are described as configured.

/** What the document says of this instance's configuration (all optional). */
export interface OpenApiFacts {
  /** RS256/ES256 tokens from an OAuth2/OIDC provider, if configured. */
  jwks?: { issuer: string; audience: string; roleClaim?: string } | null
  /** The API rate limits, if on. */
  rateLimit?: { enabled: boolean; windowMs: number; perIp: number; perPrincipal: number } | null
}

export function openApiDocument(facts: OpenApiFacts = {}): Record<string, unknown> {
  const jwks = facts.jwks ?? null
  const rl = facts.rateLimit?.enabled ? facts.rateLimit : null
  const security = [{ bearer: [] }, ...(jwks ? [{ bearerJwks: [] }] : []), { apiKey: [] }]
  const retryAfter = {
    'Retry-After': { description: 'seconds until the request would fit the window', schema: { type: 'integer' } },
  }
  const limited = {
    429: {
      description: rl
        ? `rate limit reached (${rl.perPrincipal} requests per ${rl.windowMs / 1000} s per principal, ${rl.perIp} per IP without valid credentials); code ARB_RATE_LIMITED`
        : 'rate limit reached (code ARB_RATE_LIMITED)',
      headers: retryAfter,
    },
    503: {
      description: 'not now: the JWKS cannot be fetched, the rate-limit store is down (closed policy), or shedding',
    },
  }
  const op = (summary: string, role: string, extra: Record<string, unknown> = {}) => ({
    summary,
    description: `Role: ${role} or above (viewer < operator < admin).`,
    security,
    responses: {
      200: { description: 'OK (amounts are decimal strings of base units)' },
      400: { description: 'bad request (code, message, hint)' },
      401: { description: 'no or bad credentials' },
      403: { description: 'role not allowed' },
      ...limited,
    },
    ...extra,
  })
  const q = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
    name,
    in: 'query',
    required: false,
    description,
    schema,
  })
  const since = q('since', 'ISO time; default: all', { type: 'string', format: 'date-time' })
  const limit = q('limit', '1–1000, default 100', { type: 'integer', minimum: 1, maximum: 1000 })
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cairn arbitrage',
      version: '1',
      description:
        'DEX arbitrage service: pools, opportunities, trades, P&L, live risk configuration, kill switch, audit.',
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT (HS256 from cairn arb token; claims sub, role, exp)',
        },
        ...(jwks
          ? {
              bearerJwks: {
                type: 'http',
                scheme: 'bearer',
                bearerFormat: 'JWT (RS256 or ES256 of an OAuth2/OIDC provider, checked against its JWKS)',
                description: `iss ${jwks.issuer}, aud ${jwks.audience}; sub and exp required; claim ${jwks.roleClaim ?? 'role'}: viewer, operator or admin`,
              },
            }
          : {}),
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
    paths: {
      '/v1/status': { get: op('Head block, pools, breaker, stop reason, realised result today, queue', 'viewer') },
      '/v1/pools': {
        get: op('Tracked pools with their last reserves', 'viewer', {
          parameters: [limit, q('offset', 'rows to skip', { type: 'integer' })],
        }),
      },
      '/v1/opportunities': {
        get: op('Opportunities found and what was decided, newest first', 'viewer', {
          parameters: [
            since,
            limit,
            q('decision', 'found, executed, simulation-failed, below-min-profit, skipped, send-failed, duplicate'),
          ],
        }),
      },
      '/v1/trades': { get: op('Trades sent, newest first', 'viewer', { parameters: [since, limit] }) },
      '/v1/pnl': {
        get: op('Realised profit and loss by token and hour or day', 'viewer', {
          parameters: [since, q('bucket', 'hour (default) or day', { type: 'string', enum: ['hour', 'day'] })],
        }),
      },
      '/v1/config': { get: op('Every risk key: value, version, who changed it and when', 'viewer') },
      '/v1/config/{key}': {
        put: op('Set one risk key (validated; audited old → new; applies at the next trade)', 'operator', {
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['value'],
                  properties: {
                    value: {},
                    expectedVersion: { type: 'integer', description: '409 unless the stored version is this' },
                  },
                },
              },
            },
          },
        }),
      },
      '/v1/kill-switch': {
        get: op('Whether trading is stopped, and why', 'viewer'),
        post: op('Engage or release the kill switch (audited; new trades stop at once)', 'operator', {
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['engaged'],
                  properties: { engaged: { type: 'boolean' }, reason: { type: 'string' } },
                },
              },
            },
          },
        }),
      },
      '/v1/breaker/reset': {
        post: op(
          "Close the engine's breaker (opened by consecutive reverts) and the RPC breaker (audited)",
          'operator',
        ),
      },
      '/v1/stream': {
        get: op(
          'WebSocket: {type: opportunity | trade | config, …} as they happen (token in a header or ?token=)',
          'viewer',
        ),
      },
      '/v1/audit': { get: op('The append-only audit log, oldest first (after, limit)', 'admin') },
      '/health': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'alive' } } } },
      '/ready': {
        get: {
          summary: 'Readiness (database, chain)',
          security: [],
          responses: { 200: { description: 'ready' }, 503: { description: 'not ready' } },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'text exposition' } } },
      },
    },
  }
}
