export { decodeBlock, type KnownTx } from './block-decode.ts'
export { encodeBlock } from './block-encode.ts'
export type {
  BlockProcessorOptions,
  BlockSource,
  PreValidation,
  ProcessOptions,
  ProcessResult,
} from './block-processor.ts'
export { BlockError, BlockErrorCode, BlockProcessor, DEFAULT_BLOCK_PROCESSOR_OPTIONS } from './block-processor.ts'
export { blockSize } from './block-size.ts'
export { MAX_RLP_BLOCK_SIZE, RLP_BLOCK_LIMIT_EXCEPTION, rlpBlockLimit } from './block-size-limit.ts'
export type { ChainModules, ChainOptions, OpenReport } from './chain.ts'
export { Chain, readStoredGenesis, repairHead } from './chain.ts'
export { encodeChainFileBlock, readChainFile } from './chain-file.ts'
export { ChainView } from './chain-view.ts'
export type { CheckOptions, CheckProblem, CheckReport } from './check.ts'
export { checkChain, receiptsRoot } from './check.ts'
export { allowCodeSender, isImpersonatedTx } from './code-sender.ts'
export type { ChainCommonOptions, SupportedHardfork } from './common.ts'
export { createChainCommon, DEFAULT_HARDFORK, SUPPORTED_HARDFORKS } from './common.ts'
export { EditedStates, editHeadState, restoreHeadState } from './edited-states.ts'
export type {
  BlockHookContext,
  BuildingHeader,
  ChainEngine,
  EndBlockContext,
  EndBlockResult,
  HeaderContext,
  ValidatorUpdate,
} from './engine.ts'
export { ChainErrorCode } from './errors.ts'
export type { ChainEvents, LogEntry } from './events.ts'
export { blockLogs } from './events.ts'
export type { BlockTxSource, BuildHeader, BuildResult, ExecutedBlock, ParentBlock, StateEdit } from './executor.ts'
export { Executor, newStateManager } from './executor.ts'
export { type Checkpoints, ForkChoice, type HeadChange } from './fork-choice.ts'
export { checkForkId, type ForkId, type ForkPoints, forkHash, forkId, forkPointsOf } from './fork-id.ts'
export type { GenesisAccount, GenesisSpec } from './genesis.ts'
export { devGenesis, genesisSchema, parseGenesis } from './genesis.ts'
export { buildGenesisBlock } from './genesis-block.ts'
export type { ImportResult, ImportStatus } from './importer.ts'
export { BlockImporter } from './importer.ts'
export type { ChainMetrics } from './metrics.ts'
export { createChainMetrics } from './metrics.ts'
export type { StoredChainView } from './open-store.ts'
export { openStoredChain } from './open-store.ts'
export { type PreimageIndex, StatePreimages } from './preimages.ts'
export type { AccountProof } from './proof.ts'
export { accountProof } from './proof.ts'
export type { RawLog, StoredReceipt } from './receipt.ts'
export { decodeReceipts, encodeConsensusReceipt, encodeReceipts, logsBloom } from './receipt.ts'
export type { SenderRecovery } from './recovery.ts'
export { workerRecovery } from './recovery.ts'
export type { ReplayedBlock, ReplayedTx } from './replay.ts'
export { replayBlock, replayTransaction } from './replay.ts'
export type { ReplaceResult, RewindResult } from './rewind.ts'
export { replaceBranch, rewindChain } from './rewind.ts'
export { rlpItemLength } from './rlp-items.ts'
export { SenderOverrides } from './sender-overrides.ts'
export { signingHash } from './signing-hash.ts'
export { StateDB, StateLayer } from './state-db.ts'
export type { RawGet, StateProblem, StateWalkStats } from './state-walk.ts'
export { walkStateTrie } from './state-walk.ts'
export type { HeadName, TxLocation } from './store.ts'
export { ChainStore } from './store.ts'
export type { SystemContract } from './system-contracts.ts'
export { CONSOLIDATION_QUEUE, WITHDRAWAL_QUEUE } from './system-contracts.ts'
export { encodedTx, seedEncodedTx, txHashHex, txSender, txSenderHex } from './tx-cache.ts'
export { TxChecks } from './tx-checks.ts'
export { decodeTransaction } from './tx-decode.ts'
export { MAX_EXTRA_DATA, validateBlock, validateExtraData } from './validate.ts'
export type { SlotReader, ViewBlock, ViewCallInput, ViewCallResult, ViewState } from './view-call/interpreter.ts'
export { runViewCall } from './view-call/interpreter.ts'
