/**
 * A cross-shard message and what each side of its channel stores about it.
 *
 * A message travels on the channel of its (source, destination) pair of shards: one ordered
 * channel per ordered pair, sequence numbers from 1. The source's bridge keeps a **commitment**
 * (the message's hash) under {@link commitmentSlot} until the message is settled; the destination's
 * bridge writes a **receipt** under {@link receiptSlot} when it decides the message's fate, exactly
 * once: delivered (the value credited, the receive hook run), failed (the hook reverted: nothing
 * credited) or expired (it arrived at or after its timeout height: nothing credited). The source
 * settles it by proof of the receipt: delivered ends it, failed and expired refund the sender.
 *
 * Encoding: `rlp([sourceShard, destShard, sequence, sender, receiver, value, data, timeoutHeight])`,
 * integers minimal big-endian (RLP's canonical form: a decoder refuses a leading zero), so every
 * message has one encoding and one hash.
 */
import { keccak256 } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { ShardErrorCode } from './errors.ts'

/** At most this many bytes of call data for the receive hook. */
export const MAX_MESSAGE_DATA = 24 * 1024
const UINT256_MAX = (1n << 256n) - 1n

export interface CrossShardMessage {
  sourceShard: number
  destShard: number
  /** Per channel (source, destination), from 1. */
  sequence: bigint
  sender: Uint8Array
  receiver: Uint8Array
  /** Wei debited on the source, credited on the destination when delivered. */
  value: bigint
  /** Call data of the receiver's receive hook; empty: a plain transfer. */
  data: Uint8Array
  /** The destination height from which the message is no longer delivered (expired, then refunded). */
  timeoutHeight: bigint
}

/** How the destination decided a message (the receipt's status). */
export const ReceiptStatus = { DELIVERED: 1, FAILED: 2, EXPIRED: 3 } as const
export type ReceiptStatus = (typeof ReceiptStatus)[keyof typeof ReceiptStatus]

function malformed(message: string): CairnError {
  return new CairnError(ShardErrorCode.MALFORMED_MESSAGE, `cross-shard message: ${message}`, { fault: 'peer' })
}

function uintBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array()
  let hex = v.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

function uintFrom(b: unknown, field: string, max: bigint): bigint {
  if (!(b instanceof Uint8Array)) throw malformed(`${field} is not a byte string`)
  if (b.length > 0 && b[0] === 0) throw malformed(`${field} has a leading zero`)
  const v = b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`)
  if (v > max) throw malformed(`${field} ${v} is above ${max}`)
  return v
}

/** Checks every field's bound. @throws CairnError `CONSENSUS_SHARD_MALFORMED_MESSAGE` naming the field */
export function checkMessage(m: CrossShardMessage): void {
  for (const [name, v] of [
    ['sourceShard', m.sourceShard],
    ['destShard', m.destShard],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw malformed(`${name} ${v} is not a uint32`)
  }
  if (m.sourceShard === m.destShard) throw malformed(`source and destination are both shard ${m.sourceShard}`)
  if (m.sequence < 1n || m.sequence > (1n << 64n) - 1n) throw malformed(`sequence ${m.sequence} is not 1..2^64−1`)
  if (m.sender.length !== 20) throw malformed('sender is not 20 bytes')
  if (m.receiver.length !== 20) throw malformed('receiver is not 20 bytes')
  if (m.value < 0n || m.value > UINT256_MAX) throw malformed(`value ${m.value} is not a uint256`)
  if (m.data.length > MAX_MESSAGE_DATA) throw malformed(`data of ${m.data.length} bytes is above ${MAX_MESSAGE_DATA}`)
  if (m.timeoutHeight < 1n || m.timeoutHeight > (1n << 64n) - 1n) {
    throw malformed(`timeoutHeight ${m.timeoutHeight} is not 1..2^64−1`)
  }
}

export function encodeMessage(m: CrossShardMessage): Uint8Array {
  checkMessage(m)
  return RLP.encode([
    uintBytes(BigInt(m.sourceShard)),
    uintBytes(BigInt(m.destShard)),
    uintBytes(m.sequence),
    m.sender,
    m.receiver,
    uintBytes(m.value),
    m.data,
    uintBytes(m.timeoutHeight),
  ])
}

/** @throws CairnError `CONSENSUS_SHARD_MALFORMED_MESSAGE` (fault 'peer') */
export function decodeMessage(bytes: Uint8Array): CrossShardMessage {
  if (bytes.length > MAX_MESSAGE_DATA + 512) throw malformed(`${bytes.length} bytes`)
  let d: unknown
  try {
    d = RLP.decode(bytes)
  } catch {
    throw malformed('not RLP')
  }
  if (!Array.isArray(d) || d.length !== 8) throw malformed('expected a list of 8 fields')
  const [src, dst, seq, sender, receiver, value, data, timeout] = d as unknown[]
  if (!(sender instanceof Uint8Array) || !(receiver instanceof Uint8Array) || !(data instanceof Uint8Array)) {
    throw malformed('sender, receiver and data are byte strings')
  }
  const m: CrossShardMessage = {
    sourceShard: Number(uintFrom(src, 'sourceShard', 0xffff_ffffn)),
    destShard: Number(uintFrom(dst, 'destShard', 0xffff_ffffn)),
    sequence: uintFrom(seq, 'sequence', (1n << 64n) - 1n),
    sender,
    receiver,
    value: uintFrom(value, 'value', UINT256_MAX),
    data,
    timeoutHeight: uintFrom(timeout, 'timeoutHeight', (1n << 64n) - 1n),
  }
  checkMessage(m)
  return m
}

/** The message's hash: what the source commits to. */
export function messageHash(m: CrossShardMessage): Uint8Array {
  return keccak256(encodeMessage(m))
}

function word(v: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'))
}

const COMMITMENT_TAG = 1n
const RECEIPT_TAG = 2n

/** The source bridge's storage slot of the commitment of (destination, sequence). */
export function commitmentSlot(destShard: number, sequence: bigint): Uint8Array {
  return keccak256(Buffer.concat([word(COMMITMENT_TAG), word(BigInt(destShard)), word(sequence)]))
}

/** The destination bridge's storage slot of the receipt of (source, sequence). */
export function receiptSlot(sourceShard: number, sequence: bigint): Uint8Array {
  return keccak256(Buffer.concat([word(RECEIPT_TAG), word(BigInt(sourceShard)), word(sequence)]))
}

/** A receipt's stored value: keccak256(status ‖ message hash ‖ keccak256(ack)), never zero. */
export function receiptValue(status: ReceiptStatus, hash: Uint8Array, ack: Uint8Array = new Uint8Array()): Uint8Array {
  return keccak256(Buffer.concat([Uint8Array.of(status), hash, keccak256(ack)]))
}
