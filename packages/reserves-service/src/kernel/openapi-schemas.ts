// JSON Schemas of the reserves API's bodies (components.schemas of the OpenAPI document).
// packages/reserves-sdk generates its TypeScript types from them (scripts/gen-types.ts): a change
// here changes the SDK's types, and its drift test says so until they are regenerated.

/** A reference to one of {@link SCHEMAS}. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })

const NULLABLE_STRING = { type: ['string', 'null'] }

/**
 * JSON Schemas of the bodies the SDKs use (packages/reserves-sdk generates its types from them):
 * the proof (format v1, docs/reserves/proof-format.md), snapshots as the API shows them, uploads,
 * batches, anchors and the error body.
 */
export const SCHEMAS: Record<string, Record<string, unknown>> = {
  Currency: {
    type: 'object',
    required: ['symbol', 'decimals'],
    properties: { symbol: { type: 'string' }, decimals: { type: 'integer' } },
  },
  ProofNode: {
    type: 'object',
    description: "A node's hash (0x-hex, 32 bytes) and its per-currency sums (decimal strings, currency order).",
    required: ['hash', 'balances'],
    properties: { hash: { type: 'string' }, balances: { type: 'array', items: { type: 'string' } } },
  },
  Proof: {
    type: 'object',
    description: 'An inclusion proof, format v1.',
    required: [
      'version',
      'hash',
      'snapshotId',
      'currencies',
      'userId',
      'salt',
      'balances',
      'leafIndex',
      'path',
      'root',
    ],
    properties: {
      version: { const: 1 },
      hash: ref('HashName'),
      snapshotId: { type: 'string' },
      currencies: { type: 'array', items: ref('Currency') },
      userId: { type: 'string' },
      salt: { type: 'string', description: '0x-hex, 32 bytes' },
      balances: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Amounts in the smallest unit, keyed by currency symbol.',
      },
      leafIndex: { type: 'integer' },
      path: { type: 'array', items: ref('ProofNode'), description: "Siblings from the leaf's level up." },
      root: ref('ProofNode'),
    },
  },
  HashName: { type: 'string', enum: ['sha256', 'keccak256'] },
  Anchor: {
    type: 'object',
    description: 'Where a root was anchored.',
    required: ['chainId', 'txHash', 'blockNumber'],
    properties: {
      chainId: { type: 'integer' },
      txHash: { type: 'string' },
      blockNumber: { type: 'integer' },
      registry: { type: 'string', description: 'The ReservesRegistry contract (absent for a calldata anchor).' },
      publisher: { type: 'string' },
    },
  },
  Snapshot: {
    type: 'object',
    description: 'A snapshot as its viewer may see it: users are not shown minDepth, depth or userCount.',
    required: ['id', 'status', 'hash', 'currencies', 'root', 'error', 'anchor', 'createdAt', 'builtAt'],
    properties: {
      id: { type: 'string' },
      status: { type: 'string', enum: ['building', 'built', 'failed'] },
      hash: ref('HashName'),
      currencies: { type: 'array', items: ref('Currency') },
      minDepth: { type: 'integer', description: 'staff only' },
      depth: { type: ['integer', 'null'], description: 'staff only' },
      userCount: { type: 'integer', description: 'staff only' },
      root: { oneOf: [ref('ProofNode'), { type: 'null' }] },
      error: NULLABLE_STRING,
      anchor: { oneOf: [ref('Anchor'), { type: 'null' }] },
      createdAt: { type: 'string', description: 'ISO 8601' },
      builtAt: NULLABLE_STRING,
      base: { type: ['string', 'null'], description: 'the snapshot it was built from incrementally (null: in full)' },
    },
  },
  SnapshotPage: {
    type: 'object',
    required: ['items', 'next'],
    properties: {
      items: { type: 'array', items: ref('Snapshot') },
      next: { type: ['string', 'null'], description: 'the cursor of the next page (null: last page)' },
    },
  },
  SnapshotUpload: {
    type: 'object',
    description: 'A snapshot as JSON (up to 16 MiB; larger ones go as CSV or NDJSON).',
    required: ['currencies', 'entries'],
    properties: {
      id: { type: 'string' },
      hash: ref('HashName'),
      minDepth: { type: 'integer' },
      currencies: { type: 'array', items: ref('Currency') },
      entries: {
        type: 'array',
        items: {
          type: 'object',
          required: ['userId', 'balances'],
          properties: {
            userId: { type: 'string' },
            balances: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
          },
        },
      },
    },
  },
  SnapshotAccepted: {
    type: 'object',
    required: ['id', 'status'],
    properties: { id: { type: 'string' }, status: { const: 'building' } },
  },
  NextSnapshot: {
    type: 'object',
    description:
      'The changes since the base: new balances (a new user is added) or a removal; hash, currencies and depth are the base’s.',
    required: ['changes'],
    properties: {
      id: { type: 'string', description: 'the new snapshot id (default: generated)' },
      changes: {
        type: 'array',
        items: {
          type: 'object',
          description: 'either `balances` (sets them; a new user is added) or `remove: true`',
          required: ['userId'],
          properties: {
            userId: { type: 'string' },
            balances: { type: 'object', additionalProperties: { type: ['string', 'integer'] } },
            remove: { const: true },
          },
        },
      },
    },
  },
  NextAccepted: {
    type: 'object',
    required: ['id', 'status', 'base'],
    properties: { id: { type: 'string' }, status: { const: 'building' }, base: { type: 'string' } },
  },
  ProofBatchRequest: {
    type: 'object',
    required: ['userIds'],
    properties: { userIds: { type: 'array', items: { type: 'string' } } },
  },
  ProofBatch: {
    type: 'object',
    required: ['proofs', 'missing'],
    properties: {
      proofs: { type: 'array', items: ref('Proof') },
      missing: { type: 'array', items: { type: 'string' } },
    },
  },
  PublicAnchor: {
    type: 'object',
    required: ['snapshotId', 'hash', 'currencies', 'root', 'anchor'],
    properties: {
      snapshotId: { type: 'string' },
      hash: ref('HashName'),
      currencies: { type: 'array', items: ref('Currency') },
      root: ref('ProofNode'),
      anchor: ref('Anchor'),
      reconciliation: {
        description: 'the latest completed reconciliation of the snapshot (docs/reserves/reconciliation.md), or null',
        oneOf: [{ type: 'null' }, ref('ReconciliationSummary')],
      },
    },
  },
  ReconciliationSummary: {
    type: 'object',
    required: ['id', 'status', 'at', 'currencies', 'chains'],
    properties: {
      id: { type: 'string' },
      status: { type: 'string', enum: ['ok', 'shortfall'] },
      at: { type: 'string', format: 'date-time' },
      currencies: {
        type: 'array',
        items: {
          type: 'object',
          required: ['symbol', 'decimals', 'liabilities', 'assets', 'ratio', 'status'],
          properties: {
            symbol: { type: 'string' },
            decimals: { type: 'integer' },
            liabilities: { type: 'string', description: 'decimal, in the currency' },
            assets: { type: 'string', description: 'decimal, in the currency' },
            ratio: { type: ['string', 'null'], description: 'assets / liabilities, 18 digits, truncated' },
            status: { type: 'string', enum: ['ok', 'shortfall'] },
          },
        },
      },
      chains: {
        type: 'array',
        items: {
          type: 'object',
          required: ['chainId', 'blockNumber'],
          properties: { chainId: { type: 'integer' }, blockNumber: { type: 'string' } },
        },
      },
    },
  },
  LeafPage: {
    type: 'object',
    required: ['total', 'leaves'],
    properties: {
      total: { type: 'integer' },
      leaves: {
        type: 'array',
        items: {
          type: 'object',
          required: ['index', 'hash', 'balances'],
          properties: {
            index: { type: 'integer' },
            hash: { type: 'string' },
            balances: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
  ErrorBody: {
    type: 'object',
    description: 'Every error answer.',
    required: ['code', 'message'],
    properties: {
      code: { type: 'string', description: 'stable error code (RESERVES_…)' },
      message: { type: 'string' },
      hint: { type: 'string', description: 'what to do about it' },
      errorCount: { type: 'integer', description: 'RESERVES_INPUT_INVALID: how many rows are bad' },
      errors: {
        type: 'array',
        description: 'RESERVES_INPUT_INVALID: the first 100 bad rows',
        items: {
          type: 'object',
          required: ['line', 'reason'],
          properties: { line: { type: 'integer' }, reason: { type: 'string' } },
        },
      },
    },
  },
}
