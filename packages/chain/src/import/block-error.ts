import { CairnError, type CairnErrorCode, type ErrorFault, isCairnError } from '@cairn/utils'
import { ChainErrorCode } from '../errors.ts'

/** Error codes of the front door (beside the chain's: CHAIN_BLOCK_INVALID, CHAIN_EXECUTION_MISMATCH…). */
export const BlockErrorCode = {
  DECODE: 'CHAIN_BLOCK_DECODE',
  TOO_LARGE: 'CHAIN_BLOCK_TOO_LARGE',
  KNOWN_BAD: 'CHAIN_BLOCK_KNOWN_BAD',
  BAD_ANCESTOR: 'CHAIN_BLOCK_BAD_ANCESTOR',
  QUEUE_FULL: 'CHAIN_IMPORT_QUEUE_FULL',
  NOT_IMPORTED: 'CHAIN_BLOCK_NOT_IMPORTED',
  /** A block verified on a parent it does not name (`BlockVerifier.verify`): not its fault. */
  PARENT_MISMATCH: 'CHAIN_BLOCK_PARENT_MISMATCH',
  /** A timestamp too far ahead of the local clock (`BlockVerifier.verify`): try again later. */
  FUTURE: 'CHAIN_BLOCK_FUTURE',
} as const
export type BlockErrorCode = (typeof BlockErrorCode)[keyof typeof BlockErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    blocks: BlockErrorCode
  }
}

/**
 * What to do with a block that was not imported, and with whoever sent it (Lodestar's
 * `GossipAction` / `PeerAction`): `reject` it (do not forward it; it is invalid) or `ignore` it
 * (not now: a queue full, a transient fault), and whether the peer that sent it is to blame.
 */
export class BlockError extends CairnError {
  override readonly name = 'BlockError'
  constructor(
    code: CairnErrorCode,
    message: string,
    readonly action: 'reject' | 'ignore',
    readonly penalize: boolean,
    opts: { fault?: ErrorFault; cause?: unknown } = {},
  ) {
    super(code, message, { fault: opts.fault ?? (penalize ? 'peer' : 'transient'), ...opts })
  }
}

/** How a block refused with a code is answered: see {@link BlockError}. */
export interface BlockErrorClass {
  action: 'reject' | 'ignore'
  penalize: boolean
}

const REJECT: BlockErrorClass = { action: 'reject', penalize: true }
const IGNORE: BlockErrorClass = { action: 'ignore', penalize: false }

/** The codes the front door and the verifier classify themselves (the rest: by their `fault`). */
export type ClassifiedCode = ChainErrorCode | BlockErrorCode

/**
 * How every code of the chain and of the front door is answered when a block fails with it: a
 * rejected block is invalid (remembered as bad, its sender penalized); an ignored one is not its
 * fault (a transient fault, a bug here, a full queue). Exhaustive: a new code fails the type check
 * until it is classified here. Codes of other domains (an engine's header rules) are classified by
 * their `fault` (caller or peer: reject), see {@link classifyBlockFailure}.
 */
export const BLOCK_ERROR_CLASS: Readonly<Record<ClassifiedCode, BlockErrorClass>> = {
  // The chain's codes, as the import path throws them.
  [ChainErrorCode.GENESIS_INVALID]: REJECT,
  [ChainErrorCode.GENESIS_MISMATCH]: REJECT,
  [ChainErrorCode.PARENT_UNKNOWN]: REJECT,
  [ChainErrorCode.BLOCK_INVALID]: REJECT,
  [ChainErrorCode.BLOCK_KNOWN]: IGNORE,
  [ChainErrorCode.EXECUTION_MISMATCH]: REJECT,
  [ChainErrorCode.STATE_MISSING]: IGNORE,
  [ChainErrorCode.BLOCK_NOT_FOUND]: IGNORE,
  [ChainErrorCode.CORRUPT]: IGNORE,
  [ChainErrorCode.SHARED_COMMON_SWITCHED]: IGNORE,
  [ChainErrorCode.WOULD_REVERT_FINALIZED]: REJECT,
  [ChainErrorCode.FINALITY_INVALID]: REJECT,
  [ChainErrorCode.NUMBER_OUT_OF_RANGE]: IGNORE,
  [ChainErrorCode.BLOCK_RLP_LIMIT_EXCEEDED]: REJECT,
  [ChainErrorCode.MISUSE]: IGNORE,
  // Fork mode: the remote failed, not the block.
  [ChainErrorCode.FORK_REMOTE]: IGNORE,
  // The front door's own.
  [BlockErrorCode.DECODE]: REJECT,
  [BlockErrorCode.TOO_LARGE]: REJECT,
  [BlockErrorCode.KNOWN_BAD]: REJECT,
  [BlockErrorCode.BAD_ANCESTOR]: REJECT,
  [BlockErrorCode.QUEUE_FULL]: IGNORE,
  [BlockErrorCode.NOT_IMPORTED]: IGNORE,
  [BlockErrorCode.PARENT_MISMATCH]: IGNORE,
  [BlockErrorCode.FUTURE]: IGNORE,
}

function isClassified(code: string): code is ClassifiedCode {
  return Object.hasOwn(BLOCK_ERROR_CLASS, code)
}

/** A {@link BlockError} of a classified code, answered as {@link BLOCK_ERROR_CLASS} says. */
export function blockError(code: ClassifiedCode, message: string, opts: { cause?: unknown } = {}): BlockError {
  const { action, penalize } = BLOCK_ERROR_CLASS[code]
  return new BlockError(code, message, action, penalize, opts)
}

/**
 * The answer to a block that failed with `err`: a chain or front-door code as
 * {@link BLOCK_ERROR_CLASS} says; another domain's code by its fault (the caller's or the peer's:
 * reject); anything else (not a CairnError) is not the block's fault.
 */
export function classifyBlockFailure(err: unknown): BlockErrorClass & { code: CairnErrorCode } {
  if (!isCairnError(err)) return { code: BlockErrorCode.NOT_IMPORTED, ...IGNORE }
  if (isClassified(err.code)) return { code: err.code, ...BLOCK_ERROR_CLASS[err.code] }
  return { code: err.code, ...(err.fault === 'caller' || err.fault === 'peer' ? REJECT : IGNORE) }
}
