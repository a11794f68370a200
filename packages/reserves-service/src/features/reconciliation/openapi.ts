// The reconciliation routes in the OpenAPI document (spread into src/openapi.ts's paths).

type Op = (summary: string, roles: string, extra?: Record<string, unknown>) => Record<string, unknown>

export function reconciliationPaths(op: Op): Record<string, Record<string, unknown>> {
  return {
    '/v1/reconciliation/sources': {
      post: op(
        'Declare an asset source: {kind: "onchain", currency, chainId, rpcUrl, address, token?, decimals?, label?} or {kind: "offchain", currency, amount, attestedBy, asOf, label?} (audited)',
        'admin',
        {
          responses: {
            201: { description: 'the source (the RPC URL as its origin only)' },
            400: { description: 'what to fix' },
          },
        },
      ),
      get: op('Declared asset sources', 'admin, auditor'),
    },
    '/v1/reconciliation/sources/{id}': {
      get: op('One asset source', 'admin, auditor'),
      patch: op('Change label, enabled, rpcUrl (on-chain) or amount, attestedBy, asOf (off-chain) (audited)', 'admin'),
      delete: op('Delete an asset source (audited)', 'admin', { responses: { 204: { description: 'deleted' } } }),
    },
    '/v1/reconciliations': {
      post: op('Queue a reconciliation run now {snapshotId?} (default: the newest built snapshot)', 'admin', {
        responses: { 202: { description: 'the queued run' }, 404: { description: 'no such (or no built) snapshot' } },
      }),
      get: op('Reconciliation runs, newest first (snapshotId, limit)', 'admin, auditor'),
    },
    '/v1/reconciliations/latest': {
      get: op(
        'The newest finished run (ok, shortfall or failed), of one snapshot with ?snapshotId=; 404 when none',
        'admin, auditor',
      ),
    },
    '/v1/reconciliations/{id}': {
      get: op(
        'One run: state, per-currency liabilities, assets and reserve ratio, the blocks read, each source',
        'admin, auditor',
      ),
    },
  }
}
