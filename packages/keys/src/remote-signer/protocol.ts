/**
 * The remote signer's wire protocol (version 1), spoken over mutual TLS (docs/operations/keys.md).
 *
 * A frame is a 4-byte big-endian length N (1 ≤ N ≤ {@link MAX_FRAME_BYTES}) and N bytes of UTF-8
 * JSON. The client sends requests, each with an `id` it chooses; the signer answers each with one
 * frame carrying the same `id` and either `result` or `error`, in the order the requests came.
 *
 * | request | result |
 * |---|---|
 * | `{"id":1,"method":"keys"}` | `{"version":1,"chainId":"1337","keys":["0x…"],"txKeys":["0x…"]}`: the validator keys and the transaction keys it signs with; under a post-quantum scheme also `"scheme":"hybrid"` (or `"ml-dsa-65"`) and `"pqKeys":["0x…"]` (`pqAddress` of each key's ML-DSA key) |
 * | `{"id":2,"method":"signVote","key":"0x…","chainId":"1337","vote":{"type":1,"height":5,"round":0,"blockHash":"0x…"}}` | `{"signature":"0x…"}` (65 bytes `r ‖ s ‖ v`; under `hybrid` 3,374 bytes, under `ml-dsa-65` 3,309) |
 * | `{"id":3,"method":"signProposal","key":"0x…","chainId":"1337","proposal":{"height":5,"round":0,"polRound":-1,"blockHash":"0x…"}}` | `{"signature":"0x…"}` |
 * | `{"id":4,"method":"ping"}` | `{}` |
 * | `{"id":5,"method":"signTransaction","key":"0x…","chainId":"1337","tx":"0x02f8…"}` | `{"signature":"0x…"}` (65 bytes `r ‖ s ‖ v`, v = 27 + y parity) |
 *
 * A vote for nil has `"blockHash":null`; `type` is 1 (prevote) or 2 (precommit); `chainId` is a
 * decimal string. The signer never signs a digest it is handed: it computes the BFT digest
 * (@cairn/consensus `bft/signing.ts`) from these fields, so a client can obtain nothing but consensus signatures.
 * An error is `{"id":2,"error":{"code":"DOUBLE_SIGN","message":"…"}}` with a code of
 * {@link SignerErrorCode}.
 *
 * `signTransaction` is for transaction keys only (`txKeys`: the arbitrage trading key, the
 * reserves anchoring key), never a validator key, and a validator key is never a transaction key.
 * `tx` is the unsigned transaction as Ethereum serializes it for signing (EIP-2718 typed, or RLP
 * legacy with its EIP-155 chain id); the signer decodes it, checks it against its policy
 * (`tx-policy.ts`: chain, recipients, value, no EIP-7702 delegation) and signs the keccak-256 of
 * exactly those bytes. Again it is never handed a digest. It may carry the caller's W3C trace
 * context (`"traceparent":"00-…","tracestate":"…"`, both optional): the signer's log line of that
 * transaction then carries `trace_id` and the caller's `span_id`, so the signing hop is found with
 * the rest of the trace (docs/operations/observability.md).
 */
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { KeysErrorCode } from '../errors.ts'

/**
 * The consensus signature schemes a signer may announce (@cairn/consensus `SignatureScheme`, which
 * must stay equal to this: the consensus side checks it at compile time).
 */
export type SignerScheme = 'secp256k1' | 'hybrid' | 'ml-dsa-65'

export const PROTOCOL_VERSION = 1
/** The largest frame either side accepts (a request is ~300 bytes). */
export const MAX_FRAME_BYTES = 64 * 1024
/** The largest round (and proof-of-lock round) a request may name: int32, as CometBFT's. */
export const MAX_ROUND = 2 ** 31 - 1
/** The longest error message an answer carries (the signer's own words, never the request's). */
export const MAX_ERROR_MESSAGE_CHARS = 256

/** The error codes of an answer. */
export const SignerErrorCode = {
  /**
   * The double-sign protection refused: it conflicts with what this key signed before, goes back in
   * height/round/step, or is further ahead of the key's last height than the signer allows.
   */
  DOUBLE_SIGN: 'DOUBLE_SIGN',
  /** The signer holds no key for that address (or this client may not use it). */
  UNKNOWN_KEY: 'UNKNOWN_KEY',
  /** The request is for another chain than the one the signer serves. */
  WRONG_CHAIN: 'WRONG_CHAIN',
  /** The request does not parse or breaks the schema. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The signer failed (its protection database cannot be written): nothing was signed. */
  INTERNAL: 'INTERNAL',
  /** A transaction its policy does not allow (recipient, value, type, chain): refused. */
  POLICY: 'POLICY',
} as const
export type SignerErrorCode = (typeof SignerErrorCode)[keyof typeof SignerErrorCode]

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, '32 bytes as 0x-hex')
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address')
/** A height: a JSON number that is a safe integer (a larger one does not survive JSON.parse exactly). */
const height = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER, 'at most 2^53 - 1')
/** A round: int32, as CometBFT's. */
const round = z.number().int().nonnegative().max(MAX_ROUND, `at most ${MAX_ROUND}`)
const id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
const chainId = z.string().regex(/^\d{1,20}$/, 'a decimal chain id')

export const RequestSchema = z.discriminatedUnion('method', [
  z.object({ id, method: z.literal('keys') }).strict(),
  z.object({ id, method: z.literal('ping') }).strict(),
  z
    .object({
      id,
      method: z.literal('signTransaction'),
      key: address,
      chainId,
      // the unsigned transaction; the frame bounds its size
      tx: z.string().regex(/^0x([0-9a-fA-F]{2})+$/, 'the unsigned transaction as 0x-hex'),
      // the caller's W3C trace context (optional): the signer's log line names the trace
      traceparent: z.string().max(55).optional(),
      tracestate: z.string().max(512).optional(),
    })
    .strict(),
  z
    .object({
      id,
      method: z.literal('signVote'),
      key: address,
      chainId,
      vote: z
        .object({ type: z.union([z.literal(1), z.literal(2)]), height, round, blockHash: hex32.nullable() })
        .strict(),
    })
    .strict(),
  z
    .object({
      id,
      method: z.literal('signProposal'),
      key: address,
      chainId,
      proposal: z
        .object({
          height,
          round,
          polRound: z.number().int().min(-1).max(MAX_ROUND),
          blockHash: hex32,
        })
        .strict(),
    })
    .strict(),
])
export type SignerRequest = z.output<typeof RequestSchema>

export interface KeysResult {
  version: number
  chainId: string
  keys: string[]
  /** The transaction keys (absent from a signer that holds none). */
  txKeys?: string[]
  /** The consensus signature scheme of its validator keys; absent: `secp256k1`. */
  scheme?: SignerScheme
  /** Under a PQ scheme, `pqAddress` of each validator key's ML-DSA key, in the order of `keys`. */
  pqKeys?: string[]
}

export type SignerResponse =
  | { id: number; result: KeysResult | { signature: string } | Record<string, never> }
  | { id: number; error: { code: SignerErrorCode; message: string } }

const ResponseSchema = z.union([
  z.object({ id, result: z.record(z.string(), z.unknown()) }),
  z.object({
    id,
    error: z.object({ code: z.enum(Object.values(SignerErrorCode) as [SignerErrorCode]), message: z.string() }),
  }),
])

function protocolError(message: string): CairnError {
  return new CairnError(KeysErrorCode.SIGNER_PROTOCOL, `remote signer protocol: ${message}`, {
    fault: 'peer',
  })
}

/** One frame: the length prefix and the JSON. */
export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8')
  if (body.length > MAX_FRAME_BYTES) throw protocolError(`frame of ${body.length} bytes over ${MAX_FRAME_BYTES}`)
  const head = Buffer.alloc(4)
  head.writeUInt32BE(body.length, 0)
  return Buffer.concat([head, body])
}

/** Why a frame was rejected (`cairn_signer_rejected_frames_total{reason}`). */
export type FrameRejection = 'empty' | 'too_large' | 'not_json' | 'timeout'

/** Every {@link FrameRejection}, for metrics exported at 0. */
export const FRAME_REJECTIONS: readonly FrameRejection[] = ['empty', 'too_large', 'not_json', 'timeout']

function frameError(reason: FrameRejection, message: string): CairnError {
  return new CairnError(KeysErrorCode.SIGNER_PROTOCOL, `remote signer protocol: ${message}`, {
    fault: 'peer',
    meta: { frame: reason },
  })
}

/** Why a frame could not be read (`meta.frame` of a {@link FrameReader} error), or null for another error. */
export function frameRejectionOf(err: unknown): FrameRejection | null {
  const reason = err instanceof CairnError ? (err.meta as { frame?: FrameRejection } | undefined)?.frame : undefined
  return reason ?? null
}

/**
 * Splits a byte stream into frames' JSON bodies, one at a time ({@link next}) or all that a chunk
 * completes ({@link push}). Chunks are kept apart until a frame is whole, so a frame trickled in
 * one byte at a time costs no more copying than one sent at once. Throws on an empty or oversized
 * frame, or a body that is not JSON (with `meta.frame`: {@link frameRejectionOf}).
 */
export class FrameReader {
  #chunks: Buffer[] = []
  #length = 0

  /** Bytes held that do not make a whole frame yet (0: between frames). */
  get pending(): number {
    return this.#length
  }

  /** Adds bytes read from the stream. */
  append(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#length += chunk.length
  }

  /** The next whole frame's JSON, or undefined until one is whole. */
  next(): unknown {
    if (this.#length < 4) return undefined
    const n = this.#header()
    if (n === 0 || n > MAX_FRAME_BYTES)
      throw frameError(n === 0 ? 'empty' : 'too_large', `frame length ${n} outside 1..${MAX_FRAME_BYTES}`)
    if (this.#length < 4 + n) return undefined
    const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#length)
    const body = all.subarray(4, 4 + n).toString('utf8')
    const rest = all.subarray(4 + n)
    this.#chunks = rest.length > 0 ? [rest] : []
    this.#length = rest.length
    try {
      return JSON.parse(body)
    } catch {
      throw frameError('not_json', 'a frame is not JSON')
    }
  }

  /** The whole frames that `chunk` completes, parsed as JSON (a body that is not JSON throws). */
  push(chunk: Buffer): unknown[] {
    this.append(chunk)
    const out: unknown[] = []
    for (let m = this.next(); m !== undefined; m = this.next()) out.push(m)
    return out
  }

  /** The 4-byte length at the front, read across chunks. */
  #header(): number {
    const first = this.#chunks[0] as Buffer
    if (first.length >= 4) return first.readUInt32BE(0)
    const head = Buffer.alloc(4)
    let at = 0
    for (const c of this.#chunks) {
      at += c.copy(head, at, 0, Math.min(c.length, 4 - at))
      if (at === 4) break
    }
    return head.readUInt32BE(0)
  }
}

/** The field names of the protocol: the only names an error may say. */
const FIELDS = new Set([
  'id',
  'method',
  'key',
  'chainId',
  'tx',
  'vote',
  'proposal',
  'type',
  'height',
  'round',
  'polRound',
  'blockHash',
])

/**
 * What is wrong with a request, in the signer's own words: the field (by its name in the
 * protocol, `?` for any other) and what it must be. Nothing of the request is quoted — not an
 * unknown field's name, not a value — and the message is at most {@link MAX_ERROR_MESSAGE_CHARS}.
 */
export function describeRequestProblem(error: z.ZodError): string {
  const issue = error.issues[0]
  if (issue === undefined) return 'the request does not match the protocol'
  const path = issue.path.map((p) => (typeof p === 'string' && FIELDS.has(p) ? p : '?')).join('.') || 'request'
  let what: string
  switch (issue.code) {
    case 'unrecognized_keys':
      what = `${issue.keys.length === 1 ? 'an unknown field' : `${issue.keys.length} unknown fields`}: send only the fields of the method (docs/operations/keys.md, "The protocol")`
      break
    case 'invalid_union':
      what =
        'discriminator' in issue && issue.discriminator === 'method'
          ? 'must be one of keys, ping, signVote, signProposal, signTransaction'
          : 'not an allowed value'
      break
    case 'invalid_type':
      what = `expected ${issue.expected}`
      break
    case 'too_big':
      what = `at most ${String(issue.maximum)}`
      break
    case 'too_small':
      what = `at least ${String(issue.minimum)}`
      break
    case 'invalid_format':
      // The schema's own words ('an address', '32 bytes as 0x-hex', …).
      what = issue.message
      break
    default:
      what = 'not an allowed value'
  }
  return boundMessage(`${path}: ${what}`)
}

/** `message` cut to {@link MAX_ERROR_MESSAGE_CHARS}. */
export function boundMessage(message: string): string {
  return message.length <= MAX_ERROR_MESSAGE_CHARS ? message : `${message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`
}

/** A response checked against the schema (the client's side). */
export function parseResponse(value: unknown): SignerResponse {
  const r = ResponseSchema.safeParse(value)
  if (!r.success) throw protocolError(`bad response: ${r.error.issues[0]?.message ?? 'schema'}`)
  return r.data as SignerResponse
}
