import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt } from '@ethereumjs/util'
import { Bloom } from '@ethereumjs/vm'
import { ChainErrorCode } from './errors.ts'

/** A log as the EVM emits it: [address, topics, data]. */
export type RawLog = [address: Uint8Array, topics: Uint8Array[], data: Uint8Array]

/**
 * A receipt as Cairn stores it. The consensus fields (type, status, cumulative gas, logs) plus the
 * sender, so that reading a receipt never needs a signature recovery. The bloom is not stored:
 * it is recomputed from the logs when asked for (as geth does).
 */
export interface StoredReceipt {
  type: number
  status: 0 | 1
  cumulativeGasUsed: bigint
  logs: RawLog[]
  from: Uint8Array
}

/** RLP of the list of a block's receipts, in storage form. */
export function encodeReceipts(receipts: StoredReceipt[]): Uint8Array {
  return RLP.encode(
    receipts.map((r) => [
      bigIntToUnpaddedBytes(BigInt(r.type)),
      r.status === 1 ? Uint8Array.of(1) : new Uint8Array(),
      bigIntToUnpaddedBytes(r.cumulativeGasUsed),
      r.logs,
      r.from,
    ]),
  )
}

export function decodeReceipts(bytes: Uint8Array): StoredReceipt[] {
  const list = RLP.decode(bytes)
  if (!Array.isArray(list)) throw corrupt()
  return list.map((item) => {
    if (!Array.isArray(item) || item.length !== 5) throw corrupt()
    const [type, status, cumulative, logs, from] = item as [Uint8Array, Uint8Array, Uint8Array, RawLog[], Uint8Array]
    return {
      type: Number(bytesToBigInt(type)),
      status: status.length > 0 && status[0] === 1 ? 1 : 0,
      cumulativeGasUsed: bytesToBigInt(cumulative),
      logs,
      from,
    }
  })
}

/** The 2048-bit logs bloom of a set of logs. */
export function logsBloom(logs: RawLog[]): Uint8Array {
  const bloom = new Bloom()
  for (const [address, topics] of logs) {
    bloom.add(address)
    for (const t of topics) bloom.add(t)
  }
  return bloom.bitvector
}

/** Consensus encoding of one receipt (EIP-2718 typed), as in the receipts trie and `debug_getRawReceipts`. */
export function encodeConsensusReceipt(r: StoredReceipt): Uint8Array {
  const body = RLP.encode([
    r.status === 1 ? Uint8Array.of(1) : new Uint8Array(),
    bigIntToUnpaddedBytes(r.cumulativeGasUsed),
    logsBloom(r.logs),
    r.logs,
  ])
  if (r.type === 0) return body
  const out = new Uint8Array(body.length + 1)
  out[0] = r.type
  out.set(body, 1)
  return out
}

function corrupt(): CairnError {
  return new CairnError(ChainErrorCode.CORRUPT, 'stored receipts do not decode; the database is corrupt', {
    hint: 'run `cairn db check` and restore from a backup',
  })
}
