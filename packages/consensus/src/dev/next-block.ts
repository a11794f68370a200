// What the dev engine's next block is sealed with — its timestamp, coinbase, prevRandao, base fee
// and gas limit — and Anvil's and Hardhat's controls over them (evm_increaseTime, evm_setTime,
// evm_setNextBlockTimestamp, anvil_setBlockTimestampInterval, anvil_setCoinbase,
// anvil_setNextBlockBaseFeePerGas, evm_setBlockGasLimit).
import type { BuildHeader } from '@cairn/chain'
import { keccak256 } from '@cairn/crypto'
import { CairnError } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { MAX_TIMESTAMP, nextTimestamp } from './next-timestamp.ts'

/** The fields of the next block and the controls over them (see the file's header). */
export class NextBlock {
  /** Seconds added to the clock (evm_increaseTime, evm_setTime). */
  offsetSeconds = 0n
  /** evm_setNextBlockTimestamp: the next block's timestamp, used once. */
  fixedTimestamp: bigint | undefined
  /** anvil_setNextBlockBaseFeePerGas: the next block's base fee, used once. */
  baseFee: bigint | undefined
  /** evm_setBlockGasLimit: every later block's gas limit. */
  gasLimit: bigint | undefined
  /** anvil_setBlockTimestampInterval: each block this many seconds after its parent. */
  timestampInterval: bigint | undefined
  /** The beneficiary of the tips. */
  coinbase: Uint8Array

  constructor(
    coinbase: Uint8Array,
    /** `now`: seconds since the epoch (the engine's modules); Date.now by default. */
    private readonly time: { now?: () => number },
  ) {
    this.coinbase = coinbase
  }

  /** The clock in whole seconds, without the offset. */
  private clock(): bigint {
    return BigInt(Math.floor(this.time.now?.() ?? Date.now() / 1000))
  }

  /**
   * The header fields of a block sealed on `parent` now: the timestamp `max(now + offset, parent + 1)`
   * (or the one fixed by {@link setNextBlockTimestamp}, left set; at most 2^64-1, refused after a
   * parent at 2^64-1: {@link nextTimestamp}), the coinbase, prevRandao keccak(parent hash); the gas
   * limit is the chain's rule (the parent's) unless set.
   */
  envFor(parent: Block): BuildHeader {
    const now = this.clock() + this.offsetSeconds
    const timestamp = nextTimestamp(
      parent.header,
      this.fixedTimestamp ??
        (this.timestampInterval !== undefined ? parent.header.timestamp + this.timestampInterval : now),
    )
    return {
      timestamp,
      coinbase: this.coinbase,
      mixHash: keccak256(parent.hash()),
      ...(this.gasLimit !== undefined ? { gasLimit: this.gasLimit } : {}),
      ...(this.baseFee !== undefined ? { baseFeePerGas: this.baseFee } : {}),
    }
  }

  /** A block was built: the fixed timestamp and base fee are used up. */
  usedUp(): void {
    this.fixedTimestamp = undefined
    this.baseFee = undefined
  }

  /** Moves the clock of future blocks forward (evm_increaseTime). */
  increaseTime(seconds: bigint): bigint {
    const clock = this.clock()
    const latest = clock + this.offsetSeconds + seconds
    if (latest > MAX_TIMESTAMP) {
      throw new CairnError(
        'CONSENSUS_TIMESTAMP_TOO_HIGH',
        `moving the clock ${seconds} s forward puts block timestamps past 2^64-1 (a header's limit)`,
        { fault: 'caller', hint: `move it at most ${MAX_TIMESTAMP - clock - this.offsetSeconds} s` },
      )
    }
    this.offsetSeconds += seconds
    return this.offsetSeconds
  }

  /** Fixes the next block's timestamp (evm_setNextBlockTimestamp), after the head's (`parent`). */
  setNextBlockTimestamp(timestamp: bigint, parent: bigint): void {
    if (timestamp <= parent) {
      throw new CairnError('CONSENSUS_TIMESTAMP_TOO_LOW', `timestamp ${timestamp} is not after the head's ${parent}`, {
        fault: 'caller',
      })
    }
    if (timestamp > MAX_TIMESTAMP) {
      throw new CairnError(
        'CONSENSUS_TIMESTAMP_TOO_HIGH',
        `timestamp ${timestamp} does not fit a header (at most 2^64-1)`,
        {
          fault: 'caller',
        },
      )
    }
    this.fixedTimestamp = timestamp
  }

  /** Moves the clock so that now is `timestamp` (evm_setTime); returns the offset, as Anvil. */
  setTime(timestamp: bigint): bigint {
    const clock = this.clock()
    if (timestamp > MAX_TIMESTAMP) {
      throw new CairnError('CONSENSUS_TIMESTAMP_TOO_HIGH', `timestamp ${timestamp} does not fit a header`, {
        fault: 'caller',
      })
    }
    this.offsetSeconds = timestamp - clock
    this.fixedTimestamp = undefined
    return this.offsetSeconds
  }

  /** Each later block `seconds` after its parent, or undefined to follow the clock again (anvil_setBlockTimestampInterval). */
  setBlockTimestampInterval(seconds: bigint | undefined): boolean {
    const had = this.timestampInterval !== undefined
    this.timestampInterval = seconds
    return had
  }
}
