import { bytesToHex } from '@cairn/utils'
import type { Common } from '@ethereumjs/common'
import { FeeMarket1559Tx, type TxOptions, type TypedTransaction } from '@ethereumjs/tx'
import { Address, MAX_INTEGER, MAX_UINT64, SECP256K1_ORDER_DIV_2 } from '@ethereumjs/util'
import { isReferenceCommon, isSharedCommon } from '../rules/common.ts'

// The transaction decoder's direct path (`decodeTransaction` in ../store/tx-decode.ts, the interface
// it accelerates): the common EIP-1559 form built as @ethereumjs builds it, without its decoder's
// copies. Off for a chain in reference mode.

/** What a Common's rules say about EIP-1559 transactions, read once per (shared) Common. */
interface Rules {
  chainId: bigint
  /** EIP-7825's transaction gas limit cap, where it applies. */
  gasCap: bigint | undefined
}
const rulesOf = new WeakMap<Common, Rules | null>()

/**
 * Only the chain's shared Commons (whose `copy()` is themselves and whose parameter tables are
 * merged): for any other @ethereumjs copies the Common into the transaction, which this path does
 * not. null: EIP-1559 is not active (or the signature rules predate homestead), so @ethereumjs decides.
 */
function rules(common: Common): Rules | null {
  let r = rulesOf.get(common)
  if (r === undefined) {
    r =
      isSharedCommon(common) &&
      !isReferenceCommon(common) &&
      common.isActivatedEIP(1559) &&
      common.gteHardfork('homestead')
        ? {
            chainId: common.chainId(),
            gasCap:
              common.isActivatedEIP(7825) && !common.isActivatedEIP(8037)
                ? common.param('maxTransactionGasLimit')
                : undefined,
          }
        : null
    rulesOf.set(common, r)
  }
  return r
}

/** Where the RLP reader is and the last string item it read (offset and length in the encoding). */
interface Cursor {
  pos: number
  off: number
  len: number
}

/**
 * Reads one canonical RLP string item at `c.pos` (ending before `end`) into `c.off`/`c.len` and
 * returns its length; -1 for a list, a non-minimal length or an item running past `end`.
 */
function readString(b: Uint8Array, c: Cursor, end: number): number {
  const p = c.pos
  if (p >= end) return -1
  const first = b[p] as number
  if (first < 0x80) {
    c.off = p
    c.len = 1
  } else if (first <= 0xb7) {
    c.off = p + 1
    c.len = first - 0x80
    if (c.len === 1 && (b[c.off] as number) < 0x80) return -1
  } else if (first <= 0xbf) {
    const ll = first - 0xb7
    const len = longLength(b, p + 1, ll, end)
    if (len < 0) return -1
    c.off = p + 1 + ll
    c.len = len
  } else return -1
  c.pos = c.off + c.len
  return c.pos <= end ? c.len : -1
}

/**
 * The length written in the `ll` bytes at `at` of a long-form RLP header; -1 when it is not minimal
 * (a leading zero, or under 56, which takes the short form), longer than 3 bytes, or past `end`.
 */
function longLength(b: Uint8Array, at: number, ll: number, end: number): number {
  if (ll > 3 || at + ll > end || b[at] === 0) return -1
  let len = 0
  for (let i = 0; i < ll; i++) len = len * 256 + (b[at + i] as number)
  return len < 56 ? -1 : len
}

/** An unsigned integer of at most `max` bytes without leading zeros, or -1n. */
function uint(b: Uint8Array, c: Cursor, max: number): bigint {
  const { off, len } = c
  if (len > max || (len > 0 && b[off] === 0)) return -1n
  if (len <= 6) {
    let n = 0
    for (let i = 0; i < len; i++) n = n * 256 + (b[off + i] as number)
    return BigInt(n)
  }
  return BigInt(bytesToHex(b.subarray(off, off + len)))
}

/**
 * (Exported for its differential test.) `0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data,
 * accessList, yParity, r, s])` in the common form, as @ethereumjs's `FeeMarket1559Tx` constructor
 * leaves it; undefined for anything this path does not build.
 */
export function feeMarketTx(b: Uint8Array, common: Common): TypedTransaction | undefined {
  const r = b[0] === 2 ? rules(common) : null
  if (r === null) return undefined
  const end = b.length
  // The list's header.
  const h = b[1]
  if (h === undefined || h < 0xc0) return undefined
  let pos: number
  if (h <= 0xf7) {
    if (2 + h - 0xc0 !== end) return undefined
    pos = 2
  } else {
    const ll = h - 0xf7
    const len = longLength(b, 2, ll, end)
    if (len < 0 || 2 + ll + len !== end) return undefined
    pos = 2 + ll
  }
  const c: Cursor = { pos, off: 0, len: 0 }
  const idLen = readString(b, c, end)
  if (idLen < 0 || idLen > 32) return undefined
  const chainId = uintAllowingZeros(b, c)
  if (chainId !== r.chainId) return undefined
  if (readString(b, c, end) < 0) return undefined
  const nonce = uint(b, c, 8)
  if (nonce < 0n || nonce >= MAX_UINT64) return undefined
  if (readString(b, c, end) < 0) return undefined
  const maxPriorityFeePerGas = uint(b, c, 32)
  if (readString(b, c, end) < 0) return undefined
  const maxFeePerGas = uint(b, c, 32)
  if (readString(b, c, end) < 0) return undefined
  const gasLimit = uint(b, c, 8)
  if (maxPriorityFeePerGas < 0n || maxFeePerGas < maxPriorityFeePerGas || gasLimit < 0n) return undefined
  if (r.gasCap !== undefined && gasLimit > r.gasCap) return undefined
  if (gasLimit * maxFeePerGas > MAX_INTEGER) return undefined
  if (readString(b, c, end) !== 20) return undefined
  const to = b.slice(c.off, c.off + 20)
  if (readString(b, c, end) < 0) return undefined
  const value = uint(b, c, 32)
  if (value < 0n || readString(b, c, end) < 0) return undefined
  const data = b.slice(c.off, c.off + c.len)
  // An empty access list only (one byte, 0xc0).
  if (b[c.pos] !== 0xc0) return undefined
  c.pos++
  const vLen = readString(b, c, end)
  const v = vLen === 0 ? 0n : vLen === 1 && b[c.off] === 1 ? 1n : -1n
  // An empty r or s leaves @ethereumjs's transaction unsigned: built there.
  if (v < 0n || readString(b, c, end) <= 0) return undefined
  const sigR = uint(b, c, 32)
  if (sigR < 0n || readString(b, c, end) <= 0) return undefined
  const sigS = uint(b, c, 32)
  if (sigS < 0n || sigS > SECP256K1_ORDER_DIV_2 || c.pos !== end) return undefined
  // The properties in the order FeeMarket1559Tx's constructor (and sharedConstructor) adds them.
  const tx = Object.create(FeeMarket1559Tx.prototype) as Record<string, unknown>
  tx.type = 2
  tx.cache = {}
  tx.activeCapabilities = []
  tx.common = common
  tx.txOptions = { common } satisfies TxOptions
  tx.to = new Address(to)
  tx.nonce = nonce
  tx.gasLimit = gasLimit
  tx.value = value
  tx.data = data
  tx.v = v
  tx.r = sigR
  tx.s = sigS
  tx.chainId = r.chainId
  tx.activeCapabilities = [1559, 2718, 2930]
  tx.accessList = []
  tx.maxFeePerGas = maxFeePerGas
  tx.maxPriorityFeePerGas = maxPriorityFeePerGas
  return Object.freeze(tx) as unknown as TypedTransaction
}

/** An unsigned integer of at most 32 bytes; leading zeros allowed (the chain id is read so). */
function uintAllowingZeros(b: Uint8Array, c: Cursor): bigint {
  return c.len === 0 ? 0n : BigInt(bytesToHex(b.subarray(c.off, c.off + c.len)))
}
