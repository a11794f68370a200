import { bytesToHex, CairnError } from '@cairn/utils'
import { type Block, createBlockHeader, type HeaderData } from '@ethereumjs/block'
import { type Common, Hardfork } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import type { TypedTransaction } from '@ethereumjs/tx'
import { MAX_UINT64, type Withdrawal } from '@ethereumjs/util'
import { ChainErrorCode } from '../errors.ts'
import { blockSize, bodyTxLength, rlpItemLength } from '../state/block-size.ts'

/**
 * EIP-7934's MAX_RLP_BLOCK_SIZE: MAX_BLOCK_SIZE (10 MiB) less SAFETY_MARGIN (2 MiB, left for the
 * consensus layer's wrapping of the block). A block whose whole RLP encoding (header,
 * transactions, uncles, withdrawals) is longer is invalid from Osaka on.
 */
export const MAX_RLP_BLOCK_SIZE = 10_485_760 - 2_097_152

/** execution-spec-tests' name for a block over {@link MAX_RLP_BLOCK_SIZE}. */
export const RLP_BLOCK_LIMIT_EXCEPTION = 'BlockException.RLP_BLOCK_LIMIT_EXCEEDED' as const

/**
 * The most bytes a block of `common`'s fork may encode to, or undefined before Osaka (no limit).
 * @ethereumjs/common leaves EIP-7934 out of its Osaka list, so this asks for the fork, not the EIP.
 */
export function rlpBlockLimit(common: Common): number | undefined {
  return common.gteHardfork(Hardfork.Osaka) ? MAX_RLP_BLOCK_SIZE : undefined
}

/**
 * Refuses a block over EIP-7934's limit (from Osaka on), as geth's `ValidateBody` does before
 * anything else: its size summed from the cached encodings ({@link blockSize}), not re-encoded.
 */
export function checkRlpBlockSize(block: Block): void {
  const limit = rlpBlockLimit(block.common)
  if (limit === undefined) return
  const size = blockSize(block)
  if (size <= limit) return
  throw new CairnError(
    ChainErrorCode.BLOCK_RLP_LIMIT_EXCEEDED,
    `block ${block.header.number} ${bytesToHex(block.hash())}: its RLP encoding is ${size} bytes, over EIP-7934's limit of ${limit} (${RLP_BLOCK_LIMIT_EXCEPTION})`,
    { fault: 'caller', meta: { size, limit, exception: RLP_BLOCK_LIMIT_EXCEPTION } },
  )
}

/**
 * Below this many bytes of room no transaction fits: every signed one carries r and s, 32 bytes
 * each but 1 time in 256 (such a rare one waits for the next block).
 */
const MIN_TX_BYTES = 64

/**
 * The producer's running size of the block it builds, against EIP-7934's limit (Osaka on): the
 * header at its widest (its fields known at the start, gas used as wide as the gas limit, blob gas
 * used as wide as 64 bits, every hash and the bloom full), no uncles, the withdrawals, and the
 * transactions added so far by their cached encodings ({@link bodyTxLength}). Never below the
 * size of the block that comes out, so a block kept within it is within the limit; O(1) per
 * transaction, nothing re-encoded.
 */
export class BlockSizeBudget {
  /** Bytes of the transaction list's payload so far. */
  private txBytes = 0
  /** The block's size bound with the transactions added so far. */
  private current: number

  private constructor(
    readonly limit: number,
    /** Header (widest), uncles and withdrawals: the block's payload besides the transaction list. */
    private readonly fixed: number,
  ) {
    this.current = this.sizeWith(0)
  }

  /**
   * The budget of a block of `common`'s fork built from `header` (the builder's header fields),
   * crediting `withdrawals`; undefined before Osaka.
   */
  static start(
    common: Common,
    header: HeaderData,
    withdrawals: readonly Withdrawal[] = [],
  ): BlockSizeBudget | undefined {
    const limit = rlpBlockLimit(common)
    if (limit === undefined) return undefined
    const widest = createBlockHeader(
      {
        ...header,
        gasUsed: header.gasLimit,
        ...(common.isActivatedEIP(4844) ? { blobGasUsed: MAX_UINT64 } : {}),
      },
      { common, skipConsensusFormatValidation: true },
    )
    const uncles = RLP.encode([]).length
    const body = common.isActivatedEIP(4895) ? RLP.encode(withdrawals.map((w) => w.raw())).length : 0
    return new BlockSizeBudget(limit, widest.serialize().length + uncles + body)
  }

  /** The block's size bound with the transactions added so far. */
  get size(): number {
    return this.current
  }

  /** Whether `tx` can join without passing the limit. */
  fits(tx: TypedTransaction): boolean {
    return this.sizeWith(this.txBytes + bodyTxLength(tx)) <= this.limit
  }

  /** Counts `tx`, which joined the block. */
  add(tx: TypedTransaction): void {
    this.txBytes += bodyTxLength(tx)
    this.current = this.sizeWith(this.txBytes)
  }

  /** True when no transaction can fit any more. */
  get full(): boolean {
    return this.limit - this.current < MIN_TX_BYTES
  }

  private sizeWith(txBytes: number): number {
    return rlpItemLength(this.fixed + rlpItemLength(txBytes))
  }
}
