// The messages between the serving thread and an upload thread (upload-thread.ts).
import type { InputFormat } from '@cairn/reserves'
import type { Currency } from '@cairn/reserves/verifier'

/** Sent once, first: what the upload is and the key its parts are sealed with. */
export interface UploadStart {
  type: 'start'
  format: InputFormat
  /** Given with the upload (required for NDJSON; CSV names them in its header). */
  currencies: Currency[] | null
  snapshotId: string
  minDepth: number
  keyId: string
  key: Uint8Array
}

/** Serving thread → upload thread, after `start`: the body, chunk by chunk, then its end. */
export type UploadInput = UploadStart | { type: 'chunk'; bytes: Uint8Array } | { type: 'end' }

/** A refusal as the upload thread saw it: enough to raise the same CairnError on the serving thread. */
export interface UploadFailure {
  type: 'error'
  message: string
  code?: string | undefined
  fault?: string | undefined
  hint?: string | undefined
  meta?: unknown
}

/** Upload thread → serving thread: one `ack` per chunk taken, then `done` or `error`. */
export type UploadOutput =
  | { type: 'ack' }
  | { type: 'done'; currencies: Currency[]; users: number; parts: Uint8Array[] }
  | UploadFailure
