import { keccak256 } from '@cairn/crypto'
import type { TypedTransaction } from '@ethereumjs/tx'
import { encodedTx } from '../state/tx-cache.ts'
import { rlpLengthPrefix } from './rlp-prefix.ts'

/** Typed transactions whose signed encoding is `type ‖ rlp([...unsigned fields, yParity, r, s])`. */
const TYPED = new Set([1, 2])
/** Where a signing message is written to be hashed (see signingParts). */
const MESSAGE_SCRATCH = new Uint8Array(4096)

/**
 * The hash a typed (EIP-2930 / EIP-1559) transaction's signature signs, cut from its encoding: the
 * unsigned fields are the list without its last three items (yParity, r, s), so the message is
 * `type ‖ list header ‖ those bytes`, hashed once — what `tx.getMessageToVerifySignature()` gives
 * without re-encoding every field (the encoding is cached, seeded from the raw bytes at RPC
 * decoding). Undefined for other types: callers use @ethereumjs's.
 */
export function signingHash(tx: TypedTransaction): Uint8Array | undefined {
  return signingParts(tx)?.hash
}

/**
 * {@link signingHash} and the signature as 64 bytes `r ‖ s` (each right-aligned in 32), both cut
 * from the encoding in one pass: the signed encoding's last two items are r and s, minimal
 * big-endian integers, so their payloads are the values' bytes (what shifting `tx.r`/`tx.s` out 64
 * bits at a time gives, without a bigint per word). Undefined as for {@link signingHash}, or when
 * r or s is longer than 32 bytes.
 */
export function signingParts(tx: TypedTransaction): { hash: Uint8Array; sig: Uint8Array } | undefined {
  if (!TYPED.has(tx.type)) return undefined
  const raw = encodedTx(tx)
  const list = item(raw, 1)
  if (list === undefined || list.end !== raw.length) return undefined
  const starts: number[] = []
  for (let at = list.payload; at < list.end; ) {
    starts.push(at)
    const next = item(raw, at)
    if (next === undefined) return undefined
    at = next.end
  }
  const cut = starts[starts.length - 3]
  if (cut === undefined) return undefined
  const sig = new Uint8Array(64)
  for (const [n, offset] of [
    [2, 0],
    [1, 32],
  ] as const) {
    const it = item(raw, starts[starts.length - n] as number)
    if (it === undefined || it.end - it.payload > 32) return undefined
    sig.set(raw.subarray(it.payload, it.end), offset + 32 - (it.end - it.payload))
  }
  const length = cut - list.payload
  const header = rlpLengthPrefix(0xc0, length)
  // Hashed at once: written into a buffer kept for it (an array over 64 bytes costs V8 a backing
  // store of its own), or a new one for a transaction larger than it.
  const size = 1 + header.length + length
  const message = size <= MESSAGE_SCRATCH.length ? MESSAGE_SCRATCH.subarray(0, size) : new Uint8Array(size)
  message[0] = raw[0] as number
  message.set(header, 1)
  message.set(raw.subarray(list.payload, cut), 1 + header.length)
  return { hash: keccak256(message), sig }
}

/** The RLP item at `at`: where its payload starts and where it ends. */
function item(raw: Uint8Array, at: number): { payload: number; end: number } | undefined {
  const b = raw[at]
  if (b === undefined) return undefined
  if (b < 0x80) return { payload: at, end: at + 1 }
  if (b <= 0xb7) return { payload: at + 1, end: at + 1 + b - 0x80 }
  if (b <= 0xbf || b >= 0xf8) {
    const ll = b <= 0xbf ? b - 0xb7 : b - 0xf7
    let len = 0
    for (let i = 1; i <= ll; i++) len = len * 256 + (raw[at + i] ?? 0)
    return { payload: at + 1 + ll, end: at + 1 + ll + len }
  }
  return { payload: at + 1, end: at + 1 + b - 0xc0 }
}
