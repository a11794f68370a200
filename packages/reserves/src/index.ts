/**
 * @cairn/reserves: the proof-of-liabilities library — Merkle sum trees over user balances in several
 * currencies, inclusion proofs (format v1), snapshot input readers, incremental (sparse) tree updates,
 * anchoring roots on a chain. The browser-safe verifier is the `@cairn/reserves/verifier` subpath, a
 * webhook receiver's helpers `@cairn/reserves/webhooks`, the page's bundle `@cairn/reserves/web`, the
 * library's CLI commands `@cairn/reserves/cli`. The HTTP service is `@cairn/reserves-service`.
 */
export { ReservesErrorCode } from './errors.ts'
export { readSnapshot, readSnapshotColumns, readSnapshotFile, readSnapshotText } from './input/read.ts'
export type { ColumnSnapshot, InputFormat, RowError } from './input/rows.ts'
export { MAX_REPORTED_ERRORS, RowReader } from './input/rows.ts'
export type { BuildOptions, LiabilityEntry, SumTree, TreeLevel, TreeUser } from './tree/build.ts'
export {
  BUILD_MAX_DEPTH,
  buildTree,
  buildTreeParallel,
  checkCurrencies,
  checkTotals,
  depthFor,
} from './tree/build.ts'
export type { UserColumns, UserIndex } from './tree/columns.ts'
export { fastHash } from './tree/fast-hash.ts'
export type { DigestInto, Level } from './tree/kernel.ts'
export { digestFor, TreeHasher } from './tree/kernel.ts'
export { nodeAt, proofFor, rootOf } from './tree/proof.ts'
export type { RandomSource } from './tree/random.ts'
export { cryptoRandom, randomBelow, seededRandom } from './tree/random.ts'
export type { SetChange, SparseBase, SparseResult } from './tree/sparse-update.ts'
export { occupancyOf, sparseUpdate } from './tree/sparse-update.ts'
export { buildTreeDir, type DirBuildOptions } from './tree-dir/build.ts'
export { proofFromTreeDir } from './tree-dir/proof.ts'
export { generateVectors } from './vectors.ts'
export type { WebhookEventBody, WebhookEventType, WebhookVerification } from './webhooks/index.ts'
export { signWebhook, verifyWebhookSignature, WEBHOOK_EVENT_TYPES } from './webhooks/index.ts'
