import type { ForkId } from '@cairn/chain'
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { compress, uncompress } from 'snappyjs'
import { P2pErrorCode } from './errors.ts'

/** Snappy-compresses a message (the raw block format, as Ethereum's consensus layer). */
export function snappy(data: Uint8Array): Uint8Array {
  return compress(data)
}

/** Decompresses a peer's message, refusing one that would exceed `maxBytes` once decompressed. */
export function unsnappy(data: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return uncompress(data, maxBytes)
  } catch (err) {
    throw new CairnError(P2pErrorCode.DECODE, `bad snappy data: ${(err as Error).message}`, {
      fault: 'peer',
      cause: err,
    })
  }
}

/** The status exchanged on connect. */
export interface Status {
  chainId: bigint
  genesisHash: Uint8Array
  forkId: ForkId
  headHash: Uint8Array
  headNumber: bigint
  finalizedHash: Uint8Array
  finalizedNumber: bigint
  /**
   * The head's total work, on a chain whose fork choice is the heaviest total work (proof of
   * work): sync follows the heaviest peer, not the highest. An 8th field, absent on other chains;
   * a node that does not know it reads the first seven.
   */
  headWork?: bigint
}

function bigintOf(b: unknown, what: string): bigint {
  if (!(b instanceof Uint8Array) || b.length > 32) throw decodeError(`${what} is not an integer`)
  if (b.length > 0 && b[0] === 0) throw decodeError(`${what} has leading zeros`)
  let n = 0n
  for (const x of b) n = (n << 8n) | BigInt(x)
  return n
}

function bytesOf(b: unknown, what: string, length?: number): Uint8Array {
  if (!(b instanceof Uint8Array)) throw decodeError(`${what} is not bytes`)
  if (length !== undefined && b.length !== length) throw decodeError(`${what} is not ${length} bytes`)
  return b
}

function listOf(b: unknown, what: string): unknown[] {
  if (!Array.isArray(b)) throw decodeError(`${what} is not a list`)
  return b
}

function decodeError(why: string): CairnError {
  return new CairnError(P2pErrorCode.DECODE, why, { fault: 'peer' })
}

function rlpDecode(data: Uint8Array): unknown {
  try {
    return RLP.decode(data)
  } catch (err) {
    throw new CairnError(P2pErrorCode.DECODE, `bad RLP: ${(err as Error).message}`, { fault: 'peer', cause: err })
  }
}

export function encodeStatus(s: Status): Uint8Array {
  return RLP.encode([
    s.chainId,
    s.genesisHash,
    [s.forkId.hash, s.forkId.next],
    s.headHash,
    s.headNumber,
    s.finalizedHash,
    s.finalizedNumber,
    ...(s.headWork !== undefined ? [s.headWork] : []),
  ])
}

export function decodeStatus(data: Uint8Array): Status {
  const l = listOf(rlpDecode(data), 'status')
  if (l.length < 7) throw decodeError('status has too few fields')
  const fork = listOf(l[2], 'fork id')
  return {
    chainId: bigintOf(l[0], 'chain id'),
    genesisHash: bytesOf(l[1], 'genesis hash', 32),
    forkId: { hash: bytesOf(fork[0], 'fork hash', 4), next: bigintOf(fork[1], 'fork next') },
    headHash: bytesOf(l[3], 'head hash', 32),
    headNumber: bigintOf(l[4], 'head number'),
    finalizedHash: bytesOf(l[5], 'finalized hash', 32),
    finalizedNumber: bigintOf(l[6], 'finalized number'),
    ...(l.length > 7 ? { headWork: bigintOf(l[7], 'head work') } : {}),
  }
}

/** blocks_by_range's request: `count` canonical blocks from `start`. */
export interface RangeRequest {
  start: bigint
  count: number
}

export function encodeRange(r: RangeRequest): Uint8Array {
  return RLP.encode([r.start, r.count])
}

export function decodeRange(data: Uint8Array): RangeRequest {
  const l = listOf(rlpDecode(data), 'range request')
  const count = bigintOf(l[1], 'count')
  if (count > 1_000_000n) throw decodeError('count is too large')
  return { start: bigintOf(l[0], 'start'), count: Number(count) }
}

export function encodeHashes(hashes: Uint8Array[]): Uint8Array {
  return RLP.encode(hashes)
}

export function decodeHashes(data: Uint8Array, max: number): Uint8Array[] {
  const l = listOf(rlpDecode(data), 'hashes')
  if (l.length > max) throw decodeError(`more than ${max} hashes`)
  return l.map((h) => bytesOf(h, 'hash', 32))
}

/** The first byte of each response frame (as Ethereum's req/resp). */
export const ResponseCode = { OK: 0, INVALID_REQUEST: 1, SERVER_ERROR: 2, RATE_LIMITED: 3 } as const
export type ResponseCode = (typeof ResponseCode)[keyof typeof ResponseCode]

/**
 * One transaction of an eth/68-style announcement: its hash, type and size (its canonical
 * encoding's length), and, when the announcer carries it, its body (that encoding).
 */
export interface TxAnnouncement {
  type: number
  size: number
  hash: Uint8Array
  body?: Uint8Array
}

/** Most transactions in one announcement (eth/68 has no limit but geth sends 4096 at most). */
export const MAX_ANNOUNCED_TXS = 4096

/** Most transactions in an announcement that carries their bodies (a pooled_transactions_by_hash answer's cap). */
export const MAX_CARRIED_TXS = 256

/**
 * Largest transaction an announcement carries (geth's `txMaxBroadcastSize`, 4 KiB): a larger one
 * is announced by hash only and fetched by those that want it.
 */
export const MAX_CARRIED_TX_BYTES = 4096

/** Bytes of an announcement's nonce (see {@link encodeTxAnnouncement}). */
export const ANNOUNCEMENT_NONCE_BYTES = 8

/**
 * The txs topic's payload: eth/68's `NewPooledTransactionHashes`, `[types, [size…], [hash…]]`,
 * with the announcer's `nonce` (random bytes) as a fourth item. Gossipsub names a message by the
 * hash of its bytes: without the nonce, a node announcing a transaction it fetched would publish
 * the very bytes it received for it, which gossipsub drops as seen (for two minutes), so a
 * transaction sent to the end of a line of nodes stopped at the second.
 *
 * A fifth item, `[body…]`, one per hash, carries the transactions themselves (eth/68's full
 * `Transactions` broadcast, which geth sends to some peers for small transactions): the node whose
 * own RPC admitted them sends the bodies with the announcement, so its peers skip the request
 * and answer a fetch would cost (a round trip, and the announcer serving each peer in turn). The
 * hashes stay: a receiver skips the bodies of transactions it has without decoding them.
 */
export function encodeTxAnnouncement(txs: TxAnnouncement[], nonce: Uint8Array): Uint8Array {
  const fields: unknown[] = [
    Uint8Array.from(txs.map((t) => t.type)),
    txs.map((t) => t.size),
    txs.map((t) => t.hash),
    nonce,
  ]
  const bodies = txs.map((t) => t.body)
  if (bodies.length > 0 && bodies.every((b) => b !== undefined)) fields.push(bodies)
  return RLP.encode(fields as Parameters<typeof RLP.encode>[0])
}

/** An announcement's transactions (its nonce is only there to make it a message of its own). */
export function decodeTxAnnouncement(data: Uint8Array): TxAnnouncement[] {
  const l = listOf(rlpDecode(data), 'announcement')
  if (l.length < 3 || l.length > 5) throw decodeError('announcement is not [types, sizes, hashes, nonce, bodies?]')
  if (l.length >= 4 && bytesOf(l[3], 'nonce').length > 32) throw decodeError('announcement nonce is too long')
  const types = bytesOf(l[0], 'types')
  const sizes = listOf(l[1], 'sizes')
  const hashes = listOf(l[2], 'hashes')
  if (types.length !== sizes.length || types.length !== hashes.length) {
    throw decodeError('announcement lists differ in length')
  }
  if (types.length > MAX_ANNOUNCED_TXS) throw decodeError(`more than ${MAX_ANNOUNCED_TXS} announced transactions`)
  const bodies = l.length === 5 ? listOf(l[4], 'bodies') : undefined
  if (bodies !== undefined) {
    if (bodies.length !== hashes.length) throw decodeError('announcement bodies and hashes differ in length')
    if (bodies.length > MAX_CARRIED_TXS) throw decodeError(`more than ${MAX_CARRIED_TXS} carried transactions`)
  }
  return hashes.map((h, i) => {
    const size = bigintOf(sizes[i], 'size')
    if (size > 0xffffffffn) throw decodeError('size is too large')
    const tx: TxAnnouncement = { type: types[i] as number, size: Number(size), hash: bytesOf(h, 'hash', 32) }
    if (bodies !== undefined) {
      const body = bytesOf(bodies[i], 'body')
      if (body.length > MAX_CARRIED_TX_BYTES) throw decodeError('a carried transaction is over 4 KiB')
      tx.body = body
    }
    return tx
  })
}
