/**
 * @cairn/reserves: proof of liabilities — Merkle sum trees over user balances in several
 * currencies, inclusion proofs (format v1), snapshot input readers, and (in ./service) the HTTP
 * service. The browser-safe verifier is the `@cairn/reserves/verifier` subpath.
 */
export { ReservesErrorCode } from './errors.ts'
export { readSnapshot, readSnapshotColumns, readSnapshotFile, readSnapshotText } from './input/read.ts'
export type { ColumnSnapshot, InputFormat, RowError } from './input/rows.ts'
export { MAX_REPORTED_ERRORS, RowReader } from './input/rows.ts'
export type { ReconciliationMetrics } from './reconciliation/metrics.ts'
export { createReconciliationMetrics } from './reconciliation/metrics.ts'
export type { CurrencyBalance } from './reconciliation/ratio.ts'
export { RATIO_DECIMALS, reserveRatio } from './reconciliation/ratio.ts'
export type { ReservesMetrics } from './service/metrics.ts'
export { createReservesMetrics } from './service/metrics.ts'
export { openApiDocument } from './service/openapi.ts'
export type { BuildOptions, LiabilityEntry, SumTree, TreeLevel, TreeUser } from './tree/build.ts'
export { BUILD_MAX_DEPTH, buildTree, buildTreeParallel, checkCurrencies, depthFor } from './tree/build.ts'
export type { UserColumns, UserIndex } from './tree/columns.ts'
export { buildTreeDir, type DirBuildOptions } from './tree/dir-build.ts'
export { proofFromTreeDir } from './tree/dir-proof.ts'
export { fastHash } from './tree/fast-hash.ts'
export { nodeAt, proofFor, rootOf } from './tree/proof.ts'
export type { RandomSource } from './tree/random.ts'
export { cryptoRandom, seededRandom } from './tree/random.ts'
export { generateVectors } from './vectors.ts'
export type { WebhookEventBody, WebhookEventType, WebhookVerification } from './webhooks/index.ts'
export { signWebhook, verifyWebhookSignature, WEBHOOK_EVENT_TYPES } from './webhooks/index.ts'
export { createNatsEventMetrics, createWebhookMetrics } from './webhooks/metrics.ts'
