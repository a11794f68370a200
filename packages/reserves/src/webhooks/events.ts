// The events a webhook endpoint may subscribe to: what the service already tells its WebSocket
// clients and other instances (events.ts of the service), now written durably. Names never change
// once published; new ones are added at the end.

export const WEBHOOK_EVENT_TYPES = [
  /** A snapshot was accepted and queued for building: `{snapshotId, users, hash}`. */
  'snapshot.created',
  /** A worker started an attempt at building it: `{snapshotId, attempt, maxAttempts}`. */
  'build.started',
  /** The tree is built and its root published by the service: `{snapshotId, root: {hash, balances}, currencies}`. */
  'snapshot.built',
  /** The build failed for good or was cancelled: `{snapshotId, error}`. */
  'snapshot.failed',
  /** Where the root was anchored was recorded: `{snapshotId, anchor: {chainId, txHash, blockNumber, …}}`. */
  'snapshot.anchored',
  /** A reconciliation run compared assets with liabilities: `{reconciliationId, snapshotId, trigger, status: ok|shortfall, currencies: [{symbol, decimals, liabilities, assets, ratio, status}], chains}` (reconciliation.md). */
  'reconciliation.completed',
  /** …and some currency's assets are below its liabilities (the alert): `{reconciliationId, snapshotId, trigger, currencies}` — only those short. */
  'reconciliation.shortfall',
  /** A run could not compare (an RPC read failed, the snapshot is not built): `{reconciliationId, snapshotId, trigger, error}`; no ratio was recorded. */
  'reconciliation.failed',
] as const

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number]

/** Subscribes an endpoint to every event type, present and future. */
export const ALL_EVENTS = '*'

/** What a receiver gets as the JSON body of a delivery. */
export interface WebhookEventBody {
  /** The event id: also the `Idempotency-Key` header, the same on every retry. */
  id: string
  type: WebhookEventType
  /** When the event happened (ISO 8601, UTC). */
  createdAt: string
  data: Record<string, unknown>
}
