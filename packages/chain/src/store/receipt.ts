import { CairnError } from '@cairn/utils'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToBytes, bigIntToUnpaddedBytes, bytesToBigInt } from '@ethereumjs/util'
import { Bloom, type TxReceipt } from '@ethereumjs/vm'
import { ChainErrorCode } from '../errors.ts'
import { RlpArena, type RlpItem } from '../state/rlp-arena.ts'

/** A log as the EVM emits it: [address, topics, data]. */
export type RawLog = [address: Uint8Array, topics: Uint8Array[], data: Uint8Array]

/**
 * A receipt as Cairn stores it. The consensus fields (type, status, cumulative gas, logs) plus the
 * sender, so that reading a receipt never needs a signature recovery. The bloom is not stored:
 * it is recomputed from the logs when asked for (as geth does).
 */
export interface StoredReceipt {
  type: number
  /** Whether the transaction succeeded (a consensus field from Byzantium on, EIP-658). */
  status: 0 | 1
  /**
   * Before Byzantium: the state root after the transaction, the consensus field in place of
   * `status` (the receipts trie, `debug_getRawReceipts` and JSON-RPC's `root` carry it).
   */
  root?: Uint8Array
  cumulativeGasUsed: bigint
  logs: RawLog[]
  from: Uint8Array
}

/**
 * RLP of the list of a block's receipts, in storage form: per receipt
 * `[type, status, cumulativeGasUsed, logs, from]`, or before Byzantium
 * `[type, root, cumulativeGasUsed, logs, from, status]` (the 32-byte post-state root where the
 * status byte goes, the status after). Lists stored before roots were kept have 5 fields: they
 * decode unchanged.
 */
export function encodeReceipts(receipts: StoredReceipt[]): Uint8Array {
  return RLP.encode(
    receipts.map((r) => {
      const status = r.status === 1 ? Uint8Array.of(1) : new Uint8Array()
      const rest = [bigIntToUnpaddedBytes(r.cumulativeGasUsed), r.logs, r.from]
      const type = bigIntToUnpaddedBytes(BigInt(r.type))
      return r.root ? [type, r.root, ...rest, status] : [type, status, ...rest]
    }),
  )
}

export function decodeReceipts(bytes: Uint8Array): StoredReceipt[] {
  const list = RLP.decode(bytes)
  if (!Array.isArray(list)) throw corrupt()
  return list.map((item) => {
    if (!Array.isArray(item) || (item.length !== 5 && item.length !== 6)) throw corrupt()
    const [type, first, cumulative, logs, from, last] = item as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      RawLog[],
      Uint8Array,
      Uint8Array | undefined,
    ]
    const root = last !== undefined
    if (root && first.length !== 32) throw corrupt()
    const status = root ? last : first
    return {
      type: Number(bytesToBigInt(type)),
      status: status.length > 0 && status[0] === 1 ? 1 : 0,
      ...(root ? { root: first } : {}),
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

const STATUS_OK = Uint8Array.of(1)
const STATUS_FAILED = new Uint8Array()

/**
 * A receipt's consensus fields, in order: its post-state root before Byzantium (else its status
 * byte, none for a failure), the cumulative gas used, the logs bloom and the logs.
 */
function consensusFields(
  root: Uint8Array | undefined,
  succeeded: boolean,
  cumulativeGas: Uint8Array,
  bloom: Uint8Array,
  logs: RawLog[],
): RlpItem[] {
  return [root ?? (succeeded ? STATUS_OK : STATUS_FAILED), cumulativeGas, bloom, logs]
}

/**
 * The receipts trie's values for a block being built: each receipt's consensus encoding (EIP-2718
 * typed), as `encodeReceipt` of @ethereumjs/vm gives it, written into one {@link RlpArena} instead
 * of two arrays each (its RLP, then the type byte joined to it: ~280 bytes, which V8 gives a
 * backing store of its own).
 */
export function trieReceipts(results: readonly { receipt: TxReceipt; type: number }[]): Uint8Array[] {
  const arena = new RlpArena()
  return results.map(({ receipt, type }) => {
    const r = receipt as TxReceipt & { stateRoot?: Uint8Array; status?: 0 | 1 }
    const fields = consensusFields(
      r.stateRoot,
      r.status !== 0,
      bigIntToBytes(r.cumulativeBlockGasUsed),
      r.bitvector,
      r.logs as RawLog[],
    )
    return type === 0 ? arena.encode(fields) : arena.encode(fields, type)
  })
}

/**
 * Consensus encoding of one receipt (EIP-2718 typed), as in the receipts trie and
 * `debug_getRawReceipts`: its post-state root before Byzantium, its status from then on.
 */
export function encodeConsensusReceipt(r: StoredReceipt): Uint8Array {
  const body = RLP.encode(
    consensusFields(r.root, r.status === 1, bigIntToUnpaddedBytes(r.cumulativeGasUsed), logsBloom(r.logs), r.logs),
  )
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
