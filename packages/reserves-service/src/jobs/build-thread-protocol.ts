// The messages between the serving thread and the build thread (build-thread.ts).
import type { Currency, HashName } from '@cairn/reserves/verifier'
import type { ChainPlace } from '../kernel/chain.ts'
import type { StoredUser } from '../kernel/store.ts'

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

/** An incremental build (chain.ts): the changes against the stored snapshot `base`. */
export interface UpdateRequest {
  type: 'update'
  snapshotId: string
  /** The new snapshot's place: its base's chain, the next version. */
  place: ChainPlace
  base: { id: string; version: number; depth: number; users: number }
  hash: HashName
  /** Currencies (the base's). */
  k: number
  /** The sealed changes (build-input.ts `sealChanges`). */
  parts: Uint8Array[]
  keyId: string
  key: Uint8Array
  userBatch: number
}

/**
 * What it sends back; every message but `error` and the `ask-*` questions is acknowledged with
 * `{type: 'ack'}`. A question (incremental builds read their base) is answered with a `reply`.
 */
export type BuildThreadMessage =
  | { type: 'users'; rows: StoredUser[] }
  | { type: 'level'; level: number; chunk: number; hashes: Uint8Array; balances: Uint8Array }
  | { type: 'occupancy'; bits: Uint8Array }
  | { type: 'nodes'; level: number; indexes: Int32Array; hashes: Uint8Array; balances: Uint8Array }
  | { type: 'removed'; keys: Uint8Array[] }
  | { type: 'ask-users'; keys: Uint8Array[] }
  | { type: 'ask-occupancy' }
  | { type: 'ask-nodes'; levels: Int32Array; indexes: Int32Array }
  | { type: 'done'; depth: number; rootHash: string; totals: string[]; users: number }
  | { type: 'error'; message: string; code?: string | undefined }

/** The answer to an `ask-*` question. */
export type BuildThreadReply =
  | { type: 'reply'; users: { key: string; saltEnc: Uint8Array; leafIndex: number }[] }
  | { type: 'reply'; occupancy: Uint8Array }
  | { type: 'reply'; hashes: Uint8Array; balances: Uint8Array; count: number }
