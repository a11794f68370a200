// The messages between the serving thread and the build thread (build-thread.ts).
import type { HashName } from '../verifier/hash.ts'
import type { Currency } from '../verifier/proof.ts'
import type { StoredUser } from './store.ts'

/** What the build thread is sent once. */
export interface BuildRequest {
  type: 'build'
  snapshotId: string
  hash: HashName
  currencies: Currency[]
  minDepth: number
  /** The sealed input parts (build-input.ts). */
  parts: Uint8Array[]
  keyId: string
  key: Uint8Array
  /** Users per `users` message (one INSERT each). */
  userBatch: number
  /** Nodes per `level` message. */
  levelChunk: number
}

/** What it sends back; every message but `error` is acknowledged with `{type: 'ack'}`. */
export type BuildThreadMessage =
  | { type: 'users'; rows: StoredUser[] }
  | { type: 'level'; level: number; chunk: number; hashes: Uint8Array; balances: Uint8Array }
  | { type: 'done'; depth: number; rootHash: string; totals: string[]; users: number }
  | { type: 'error'; message: string; code?: string | undefined }
