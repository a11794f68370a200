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
 * (`signing.ts`) from these fields, so a client can obtain nothing but consensus signatures.
 * An error is `{"id":2,"error":{"code":"DOUBLE_SIGN","message":"…"}}` with a code of
 * {@link SignerErrorCode}.
 *
 * `signTransaction` is for transaction keys only (`txKeys`: the arbitrage trading key, the
 * reserves anchoring key), never a validator key, and a validator key is never a transaction key.
 * `tx` is the unsigned transaction as Ethereum serializes it for signing (EIP-2718 typed, or RLP
 * legacy with its EIP-155 chain id); the signer decodes it, checks it against its policy
 * (`tx-policy.ts`: chain, recipients, value, no EIP-7702 delegation) and signs the keccak-256 of
 * exactly those bytes. Again it is never handed a digest.
 */
import { bytesToHex, CairnError, hexToBytes } from '@cairn/utils'
import { z } from 'zod'
import { ConsensusErrorCode } from '../../errors.ts'
import type { MsgType, Proposal, Vote } from '../messages.ts'
import type { SignatureScheme } from '../pq/scheme.ts'

export const PROTOCOL_VERSION = 1
/** The largest frame either side accepts (a request is ~300 bytes). */
export const MAX_FRAME_BYTES = 64 * 1024

/** The error codes of an answer. */
export const SignerErrorCode = {
  /** Conflicts with what this key signed before (or goes back in height/round/step): refused. */
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
const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
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
    })
    .strict(),
  z
    .object({
      id,
      method: z.literal('signVote'),
      key: address,
      chainId,
      vote: z
        .object({ type: z.union([z.literal(1), z.literal(2)]), height: uint, round: uint, blockHash: hex32.nullable() })
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
          height: uint,
          round: uint,
          polRound: z
            .number()
            .int()
            .min(-1)
            .max(2 ** 31),
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
  scheme?: SignatureScheme
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
  return new CairnError(ConsensusErrorCode.BFT_SIGNER_PROTOCOL, `remote signer protocol: ${message}`, {
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

/** Splits a byte stream into frames' JSON bodies. Throws on an empty or oversized frame. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0)

  /** The whole frames that `chunk` completes, parsed as JSON (a body that is not JSON throws). */
  push(chunk: Buffer): unknown[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    const out: unknown[] = []
    while (this.#buf.length >= 4) {
      const n = this.#buf.readUInt32BE(0)
      if (n === 0 || n > MAX_FRAME_BYTES) throw protocolError(`frame length ${n} outside 1..${MAX_FRAME_BYTES}`)
      if (this.#buf.length < 4 + n) break
      const body = this.#buf.subarray(4, 4 + n).toString('utf8')
      this.#buf = this.#buf.subarray(4 + n)
      try {
        out.push(JSON.parse(body))
      } catch {
        throw protocolError('a frame is not JSON')
      }
    }
    return out
  }
}

/** A response checked against the schema (the client's side). */
export function parseResponse(value: unknown): SignerResponse {
  const r = ResponseSchema.safeParse(value)
  if (!r.success) throw protocolError(`bad response: ${r.error.issues[0]?.message ?? 'schema'}`)
  return r.data as SignerResponse
}

// ---- the messages' JSON forms ----

export function voteToJson(vote: Vote): { type: 1 | 2; height: number; round: number; blockHash: string | null } {
  return {
    type: vote.type,
    height: vote.height,
    round: vote.round,
    blockHash: vote.blockHash === null ? null : bytesToHex(vote.blockHash),
  }
}

export function voteFromJson(v: { type: 1 | 2; height: number; round: number; blockHash: string | null }): Vote {
  return {
    type: v.type as typeof MsgType.PREVOTE | typeof MsgType.PRECOMMIT,
    height: v.height,
    round: v.round,
    blockHash: v.blockHash === null ? null : hexToBytes(v.blockHash as `0x${string}`),
  }
}

export function proposalToJson(p: Omit<Proposal, 'block'>): {
  height: number
  round: number
  polRound: number
  blockHash: string
} {
  return { height: p.height, round: p.round, polRound: p.polRound, blockHash: bytesToHex(p.blockHash) }
}

export function proposalFromJson(p: {
  height: number
  round: number
  polRound: number
  blockHash: string
}): Omit<Proposal, 'block'> {
  return { height: p.height, round: p.round, polRound: p.polRound, blockHash: hexToBytes(p.blockHash as `0x${string}`) }
}
