/**
 * @cairn/reserves-service: the reserves HTTP service over the `@cairn/reserves` library — snapshots
 * in, proofs out, with roles, an audit trail, PGlite or PostgreSQL, builds as jobs, and its features
 * (ledger, compliance, webhooks, reconciliation, backups, the console) as Fastify plugins. Its CLI
 * (`cairn reserves serve`, …) is the `@cairn/reserves-service/cli` subpath.
 */

export { createReservesService } from './app.ts'
export type { ReservesService, ReservesServiceModules, ReservesServiceOptions } from './app-options.ts'
export { DEFAULT_BUILDS, DEFAULT_SERVICE_OPTIONS, RESERVES_CSP } from './app-options.ts'
export { createBackupMetrics } from './features/backup/metrics.ts'
export { createComplianceMetrics } from './features/compliance/metrics.ts'
export { createLedgerMetrics, createLedgerNatsMetrics } from './features/ledger/metrics.ts'
export type { ReconciliationMetrics } from './features/reconciliation/metrics.ts'
export { createReconciliationMetrics } from './features/reconciliation/metrics.ts'
export type { CurrencyBalance } from './features/reconciliation/ratio.ts'
export { RATIO_DECIMALS, reserveRatio } from './features/reconciliation/ratio.ts'
export { createNatsEventMetrics, createWebhookMetrics } from './features/webhooks/metrics.ts'
export { createNatsBuildMetrics } from './jobs/nats-builds-metrics.ts'
export type { ReservesMetrics } from './kernel/metrics.ts'
export { createReservesMetrics } from './kernel/metrics.ts'
export { openApiDocument } from './openapi.ts'
