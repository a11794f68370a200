/**
 * The BFT engine's blocks of the current height (what CometBFT's `BlockExecutor` keeps; named apart
 * from the chain's `Executor`, which executes them): proposals decoded (once per bytes object; the
 * transactions this node pooled taken as they are), checked and executed on their parent by the
 * chain's verifier (`chain.verifier`: the front door's bad-block cache and policies, the generic and
 * the BFT header rules, then execution), and the executed blocks — built here or validated — kept
 * by hash until the height commits, so a commit does not execute them again.
 */
import {
  BlockError,
  BlockErrorCode,
  ChainErrorCode,
  decodeBlock,
  type EngineChain,
  type ExecutedBlock,
  encodeBlock,
  type VerifyResult,
} from '@cairn/chain'
import type { TxPool } from '@cairn/txpool'
import { bytesToHex, CairnError, equalsBytes, type Logger } from '@cairn/utils'
import type { Block, BlockBytes } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { hashKey } from './messages.ts'
import type { BftScheduler } from './round-clock.ts'

export interface HeightBlocksOptions {
  /** How far in the future a proposal's timestamp may be, beyond its parent's + 1 (s). Default 15. */
  maxFutureSeconds?: number
}

export interface HeightBlocksModules {
  logger: Logger
  /** The clock a proposal is held to. */
  scheduler: BftScheduler
  /** The attached chain (throws before `attach`). */
  chain: () => EngineChain
  /** The attached pool, if any: its transactions and its sender recovery. */
  pool: () => TxPool | undefined
}

export class HeightBlocks {
  readonly #opts: HeightBlocksOptions
  readonly #m: HeightBlocksModules
  /** Executed blocks of the current height (built or validated), by hash. */
  #executed = new Map<string, ExecutedBlock>()
  #decoded = new WeakMap<Uint8Array, Block | null>()

  constructor(opts: HeightBlocksOptions, modules: HeightBlocksModules) {
    this.#opts = opts
    this.#m = modules
  }

  /** The block in `bytes`, or null when they do not decode (remembered per bytes object). */
  decode(bytes: Uint8Array): Block | null {
    let block = this.#decoded.get(bytes)
    if (block === undefined) {
      try {
        // The transactions this node pooled (fetched and decoded already) are taken as they are.
        const pool = this.#m.pool()
        block = decodeBlock(
          RLP.decode(bytes) as unknown as BlockBytes,
          this.#m.chain().commons,
          pool && ((hash) => pool.get(hash)),
        )
      } catch {
        block = null
      }
      this.#decoded.set(bytes, block)
    }
    return block
  }

  /** Keeps a block this node built; its hash and bytes (what the proposal carries). */
  keepBuilt(built: ExecutedBlock): { hash: Uint8Array; bytes: Uint8Array } {
    const bytes = encodeBlock(built.block)
    this.#decoded.set(bytes, built.block)
    const hash = built.block.hash()
    this.#executed.set(hashKey(hash), built)
    return { hash, bytes }
  }

  /** The executed block `hash` of the current height, if built or validated here. */
  executed(hash: Uint8Array): ExecutedBlock | undefined {
    return this.#executed.get(hashKey(hash))
  }

  /** The executed blocks of the current height. */
  all(): IterableIterator<ExecutedBlock> {
    return this.#executed.values()
  }

  /** The height is over (committed, or passed): its executed blocks go. */
  clear(): void {
    this.#executed.clear()
  }

  /** Whether the proposed block `blockHash` of `height` is valid on `parent`; executed and kept if so. */
  async validate(height: number, blockHash: Uint8Array, bytes: Uint8Array, parent: Block): Promise<boolean> {
    if (this.#executed.has(hashKey(blockHash))) return true
    const r = await this.#verify(height, blockHash, bytes, parent, true)
    if (!r.ok) return false
    this.#executed.set(hashKey(blockHash), r.executed)
    return true
  }

  /**
   * {@link #verify} of a committed block (no clock), on its stored parent (`lastCommitted` when it
   * is that); throws when it does not verify.
   */
  async verifyCommitted(
    height: number,
    hash: Uint8Array,
    bytes: Uint8Array,
    block: Block,
    lastCommitted: Block,
  ): Promise<ExecutedBlock> {
    const { parentHash } = block.header
    const parent = equalsBytes(parentHash, lastCommitted.hash())
      ? lastCommitted
      : await this.#m.chain().getBlock(parentHash)
    if (parent === undefined) {
      throw new CairnError(
        ChainErrorCode.PARENT_UNKNOWN,
        `committed block ${height} ${bytesToHex(hash)}: parent ${bytesToHex(parentHash)} is unknown`,
      )
    }
    const r = await this.#verify(height, hash, bytes, parent, false)
    if (!r.ok) throw r.error
    return r.executed
  }

  /**
   * The block of `height` in `bytes`, checked and executed on `parent` by the chain's verifier (the
   * front door's bad-block cache and policies: a block known bad is refused without executing it).
   * `proposal`: a proposal is held to the clock (not a block already committed by the validators).
   */
  async #verify(
    height: number,
    blockHash: Uint8Array,
    bytes: Uint8Array,
    parent: Block,
    proposal: boolean,
  ): Promise<VerifyResult> {
    const block = this.decode(bytes)
    if (block === null || block.header.number !== BigInt(height)) {
      const why = block === null ? 'does not decode' : `is not of height ${height}`
      const error = new BlockError(BlockErrorCode.DECODE, `block ${bytesToHex(blockHash)} ${why}`, 'reject', true)
      return { ok: false, error }
    }
    // The proposal's transactions this node pooled keep the senders the pool recovered (the
    // costliest per-transaction check otherwise: one secp256k1 recovery each); the others (not
    // fetched yet) go to the pool's recovery workers in one request, off this thread.
    const pool = this.#m.pool()
    const r = await this.#m.chain().verifier.verify(bytes, parent, {
      source: 'consensus',
      decode: () => block,
      ...(proposal
        ? { maxFutureSeconds: this.#opts.maxFutureSeconds ?? 15, now: () => this.#m.scheduler.now() / 1000 }
        : {}),
      ...(pool !== undefined
        ? {
            prepareSenders: async (b: Block) => {
              if (pool.seedSenders(b.transactions) < b.transactions.length) await pool.prepareSenders(b.transactions)
            },
          }
        : {}),
    })
    if (!r.ok) this.#m.logger.warn({ err: r.error, height, hash: bytesToHex(blockHash) }, 'proposed block is invalid')
    return r
  }
}
