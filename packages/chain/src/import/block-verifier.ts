import type { Block, BlockHeader } from '@ethereumjs/block'
import type { ChainEngine, HeaderContext } from '../engine.ts'
import type { ExecutedBlock, Executor } from '../execution/executor.ts'
import { isProofOfWork } from '../execution/pow-era.ts'
import type { SenderRecovery } from '../execution/recovery.ts'
import { TxChecks } from '../execution/tx-checks.ts'
import type { ChainStore } from '../store/store.ts'
import type { BlockError } from './block-error.ts'
import { validateProofOfWork } from './pow.ts'
import { validateBlock } from './validate.ts'

/**
 * Where a block came from: the local producer, an RPC call, a peer's gossip, sync, a file, or a
 * consensus engine's own messages (a BFT proposal or commit).
 */
export type BlockSource = 'local' | 'rpc' | 'gossip' | 'sync' | 'file' | 'consensus'

/** Blocks from peers: the sources the front door holds to its clock by default. */
export function fromPeers(source: BlockSource): boolean {
  return source === 'gossip' || source === 'sync'
}

export interface VerifyOptions {
  source: BlockSource
  /** The peer that sent it: who a refusal with `penalize` blames (logged). */
  peer?: string
  /**
   * How far ahead of the clock its timestamp may be (s), unless it is its parent's + 1 (see
   * {@link tooFarAhead}). Default: the front door's `maxFutureSeconds` for blocks from peers
   * (`gossip`, `sync`), no limit for the others. Too far ahead is `CHAIN_BLOCK_FUTURE` (ignore).
   */
  maxFutureSeconds?: number
  /** Seconds since the epoch (default: the chain's clock). */
  now?: () => number
  /**
   * The caller's decoder for bytes (the BFT engine's reuses the transactions its pool holds);
   * throws for bytes that do not decode. Default: the chain's. The size limit applies either way.
   */
  decode?: (bytes: Uint8Array) => Block
  /**
   * Gets the block's senders ready before it executes (the BFT engine seeds them from its pool,
   * then asks its recovery workers for the rest). Default: the chain's recovery workers.
   */
  prepareSenders?: (block: Block) => Promise<void>
}

export type VerifyResult = { ok: true; executed: ExecutedBlock } | { ok: false; error: BlockError }

/**
 * Checks and executes a block on `parent` without committing it: the front door's policies and
 * checks — the bad-block cache (a block known bad, or descending from one, is refused without
 * executing), the size limit and decoding, the parent, the timestamp against the clock,
 * {@link validateBlock} (EIP-7934 included), the engine's header rules — then execution. A block
 * found invalid is remembered in the front door's bad-block cache. Commit the result with a
 * `BlockCommitter`. Implemented by the front door (`BlockProcessor`); `chain.verifier`.
 */
export interface BlockVerifier {
  verify(block: Block | Uint8Array, parent: Block, opts: VerifyOptions): Promise<VerifyResult>
}

/**
 * The one rule for a timestamp ahead of the local clock: how far ahead `header` is (s) when that
 * is more than `maxFutureSeconds`, else undefined. With the parent known, the earliest timestamp
 * it allows (the parent's + 1) is never too far ahead: a chain whose blocks ran ahead of this
 * clock can still be followed one second at a time.
 */
export function tooFarAhead(
  header: BlockHeader,
  now: number,
  maxFutureSeconds: number,
  parent?: BlockHeader,
): bigint | undefined {
  const ahead = header.timestamp - BigInt(Math.floor(now))
  if (ahead <= BigInt(maxFutureSeconds)) return undefined
  if (parent !== undefined && header.timestamp <= parent.timestamp + 1n) return undefined
  return ahead
}

/** What {@link checkAndExecute} reads. */
export interface CheckModules {
  store: ChainStore
  engine: ChainEngine
  executor: Executor
  headerContext: HeaderContext
  recovery?: SenderRecovery | undefined
}

/**
 * The checks and the execution every received block goes through, the importer's and the
 * verifier's alike: {@link validateBlock}, the header rules (Ethereum's proof of work before the
 * merge, the engine's after it), then execution with the per-transaction checks. `ahead`: the
 * block's execution started already (the importer's execute-ahead), used once the checks pass;
 * when it failed, the block is executed here. `prepareSenders`: see {@link VerifyOptions}.
 * Throws the first failure.
 */
export async function checkAndExecute(
  block: Block,
  parent: Block,
  m: CheckModules,
  opts: { ahead?: Promise<ExecutedBlock | undefined>; prepareSenders?: (block: Block) => Promise<void> } = {},
): Promise<ExecutedBlock> {
  // Senders are made ready first, so that they recover while the block is checked and its first
  // transactions execute.
  const prepared = opts.prepareSenders?.(block).catch(() => undefined)
  const checks = opts.ahead || prepared ? undefined : new TxChecks(block, m.recovery)
  await validateBlock(block, parent, {
    baseFeeFloor: m.engine.baseFeeFloor === true,
    dagHeaders: m.engine.dagHeaders === true,
  })
  if (isProofOfWork(block.common) && m.engine.sealsProofOfWork !== true)
    await validateProofOfWork(block, parent, m.store)
  else await m.engine.validateHeader(block.header, parent.header, m.headerContext)
  const ahead = await opts.ahead
  if (ahead) return ahead
  await prepared
  return m.executor.execute(block, parent, checks ?? new TxChecks(block, prepared ? undefined : m.recovery))
}
