// The compliance routes in the OpenAPI document (spread into src/openapi.ts's paths).

type Op = (summary: string, roles: string, extra?: Record<string, unknown>) => Record<string, unknown>

const userId = { name: 'userId', in: 'path', required: true, schema: { type: 'string' }, description: 'the user id' }
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'snapshot id' }
const q = (name: string, schema: Record<string, unknown>, description: string) => ({
  name,
  in: 'query',
  required: false,
  schema,
  description,
})

export function compliancePaths(op: Op): Record<string, Record<string, unknown>> {
  return {
    '/v1/users/{userId}/export': {
      get: op(
        'GDPR access: everything stored about a user — per built snapshot their leaf index, salt, balances, leaf hash and proof; erasures; audit entries naming them (audited without the id)',
        'admin',
        { parameters: [userId] },
      ),
    },
    '/v1/users/{userId}/erase': {
      post: op(
        "GDPR erasure: deletes the user's id, salt and lookup key in every snapshot; roots and other users' proofs still verify; their proof answers 404 (erased) afterwards (audited without the id)",
        'admin',
        { parameters: [userId] },
      ),
    },
    '/v1/snapshots/{id}/report': {
      get: op(
        'Auditor report: totals, root, leaf count, anchor, latest reconciliation, audit chain, sampled proofs verified; signed (Ed25519) over its canonical JSON',
        'admin, auditor',
        {
          parameters: [
            id,
            q('format', { type: 'string', enum: ['json', 'csv', 'pdf'], default: 'json' }, 'the rendering'),
            q('samples', { type: 'integer', minimum: 0, maximum: 100, default: 8 }, 'proofs sampled and verified'),
            q('seed', { type: 'string' }, 'the sampling seed (default random; recorded in the report)'),
          ],
          responses: {
            200: {
              description: 'the report',
              content: { 'application/json': {}, 'text/csv': {}, 'application/pdf': {} },
            },
            409: { description: 'the snapshot is not built' },
          },
        },
      ),
    },
    '/v1/compliance/report-key': {
      get: op(
        "The report signing key's public half (Ed25519, raw hex) and id; 404 when reports are unsigned",
        'anyone',
        {
          security: [],
        },
      ),
    },
    '/v1/compliance/retention': {
      get: op('The retention policy and the last run of the retention job', 'admin, auditor'),
    },
    '/v1/compliance/retention/run': {
      post: op('Run the retention job now (archives or deletes what the policy no longer keeps)', 'admin', {
        responses: { 200: { description: 'what the run retired and pruned' }, 400: { description: 'no policy' } },
      }),
    },
  }
}
