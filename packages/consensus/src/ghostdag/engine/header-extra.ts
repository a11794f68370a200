/**
 * What a GhostDAG chain's header carries in `extraData`: the block's extra parents (every parent
 * but `parentHash`, the selected parent) and the milliseconds of its timestamp, as
 *
 *     extraData = 0xdb ‖ RLP([millis, [extraParent₁, …, extraParentₙ]])
 *
 * `millis` (0–999) is the sub-second part of the block's time: its time in milliseconds is
 * `timestamp × 1000 + millis`, what the DAG's difficulty (`DagDifficulty`) counts in, while
 * `timestamp` stays Ethereum's seconds for every tool. The extra parents are 32-byte hashes in
 * strictly ascending order (one byte form per header). The header hash commits to both, and a
 * header alone is enough to run GhostDAG. `0xda` (`dag-header.ts`) is the format without the
 * milliseconds, kept for the library's tests; the engine writes and accepts only `0xdb`.
 */
import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { GhostdagErrorCode } from '../errors.ts'
import { type BlockHash, hashFromBytes } from '../hash.ts'

/** The version byte of the engine's header format. */
export const DAG_HEADER_VERSION = 0xdb

export interface DagHeaderExtra {
  /** The sub-second part of the block's time, 0–999. */
  millis: number
  /** The parents besides `parentHash`. */
  extraParents: BlockHash[]
}

function bad(message: string): CairnError {
  return new CairnError(GhostdagErrorCode.INVALID_HEADER, message, { fault: 'caller' })
}

function hashBytes(hash: BlockHash): Uint8Array {
  if (!/^0x[0-9a-f]{64}$/.test(hash)) throw bad(`parent ${hash} is not a 32-byte lowercase hex hash`)
  return Uint8Array.from(Buffer.from(hash.slice(2), 'hex'))
}

function uintBytes(n: number): Uint8Array {
  if (n === 0) return new Uint8Array()
  return n < 256 ? Uint8Array.of(n) : Uint8Array.of(n >> 8, n & 0xff)
}

export function encodeDagHeaderExtra(extra: DagHeaderExtra): Uint8Array {
  if (!Number.isInteger(extra.millis) || extra.millis < 0 || extra.millis > 999) {
    throw bad(`millis must be an integer in [0, 999], got ${extra.millis}`)
  }
  const sorted = [...extra.extraParents].sort()
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) throw bad(`parent ${sorted[i]} named twice`)
  const rlp = RLP.encode([uintBytes(extra.millis), sorted.map(hashBytes)])
  const out = new Uint8Array(1 + rlp.length)
  out[0] = DAG_HEADER_VERSION
  out.set(rlp, 1)
  return out
}

/**
 * The header's milliseconds and extra parents, refusing any other encoding than
 * {@link encodeDagHeaderExtra}'s (version, canonical RLP, minimal integer, ascending parents).
 * @throws CairnError `CONSENSUS_GHOSTDAG_INVALID_HEADER`
 */
export function decodeDagHeaderExtra(extraData: Uint8Array): DagHeaderExtra {
  if (extraData[0] !== DAG_HEADER_VERSION) {
    throw bad(`extra data must start with the DAG header version 0xdb (${extraData.length} bytes given)`)
  }
  let items: unknown
  try {
    items = RLP.decode(extraData.subarray(1))
  } catch (err) {
    throw bad(`extra data is not RLP: ${(err as Error).message}`)
  }
  if (!Array.isArray(items) || items.length !== 2) throw bad('extra data is not [millis, [parents]]')
  const [m, list] = items as [unknown, unknown]
  if (!(m instanceof Uint8Array) || m.length > 2 || (m.length > 0 && m[0] === 0))
    throw bad('millis is not a minimal integer')
  const millis = m.length === 0 ? 0 : m.length === 1 ? m[0]! : (m[0]! << 8) | m[1]!
  if (millis > 999) throw bad(`millis ${millis} is above 999`)
  if (!Array.isArray(list)) throw bad('extra parents are not a list')
  const extraParents = list.map((item, i) => {
    if (!(item instanceof Uint8Array) || item.length !== 32) throw bad(`extra parent ${i} is not 32 bytes`)
    return hashFromBytes(item)
  })
  for (let i = 1; i < extraParents.length; i++) {
    if (extraParents[i]! <= extraParents[i - 1]!) throw bad('extra parents are not in strictly ascending order')
  }
  return { millis, extraParents }
}

/** A header's time in milliseconds (its timestamp's seconds and the extra data's millis). */
export function headerTimeMs(header: { timestamp: bigint; extraData: Uint8Array }): bigint {
  return header.timestamp * 1000n + BigInt(decodeDagHeaderExtra(header.extraData).millis)
}
