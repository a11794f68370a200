export type { ChainModules, ChainOptions, OpenReport } from './chain.ts'
export { Chain } from './chain.ts'
export type { BlockReader, ChainReader } from './chain-reader.ts'
export type { MethodTracer } from './chain-tracing.ts'
export type { DevChain } from './dev/dev-chain.ts'
export type { ReplaceResult, RewindResult } from './dev/rewind.ts'
export type {
  BlockHookContext,
  BuildingHeader,
  ChainEngine,
  EndBlockContext,
  EndBlockResult,
  HeaderContext,
  ValidatorUpdate,
} from './engine.ts'
export type { EngineData } from './engine-data.ts'
export { ChainErrorCode } from './errors.ts'
export type { ChainEvents, LogEntry } from './events.ts'
export { blockLogs } from './events.ts'
export { ChainView } from './execution/chain-view.ts'
export { allowCodeSender, isImpersonatedTx } from './execution/code-sender.ts'
export type {
  BlockTxSource,
  BuildHeader,
  BuildResult,
  ExecutedBlock,
  ParentBlock,
  StateEdit,
} from './execution/executor.ts'
export { newStateManager } from './execution/executor.ts'
export type { ReplayedBlock, ReplayedTx } from './execution/replay.ts'
export { replayBlock, replayTransaction } from './execution/replay.ts'
export type { SystemContract } from './execution/system-contracts.ts'
export { CONSOLIDATION_QUEUE, WITHDRAWAL_QUEUE } from './execution/system-contracts.ts'
export type { SlotReader, ViewBlock, ViewCallInput, ViewCallResult, ViewState } from './fast/view-call/interpreter.ts'
export { runViewCall } from './fast/view-call/interpreter.ts'
export type { BlockCommitter, CommitOptions } from './import/block-committer.ts'
export type { BlockErrorClass, ClassifiedCode } from './import/block-error.ts'
export { BLOCK_ERROR_CLASS, BlockError, BlockErrorCode } from './import/block-error.ts'
export type { BlockProcessorOptions, PreValidation, ProcessOptions, ProcessResult } from './import/block-processor.ts'
export { DEFAULT_BLOCK_PROCESSOR_OPTIONS } from './import/block-processor.ts'
export { MAX_RLP_BLOCK_SIZE, RLP_BLOCK_LIMIT_EXCEPTION, rlpBlockLimit } from './import/block-size-limit.ts'
export type { BlockSource, BlockVerifier, VerifyOptions, VerifyResult } from './import/block-verifier.ts'
export { type Checkpoints, ForkChoice, type HeadChange } from './import/fork-choice.ts'
export type { ImportResult, ImportStatus } from './import/importer.ts'
export type { SenderRecovery } from './import/recovery.ts'
export { workerRecovery } from './import/recovery.ts'
export { MAX_EXTRA_DATA, validateExtraData } from './import/validate.ts'
export type { ChainMetrics } from './metrics.ts'
export { createChainMetrics } from './metrics.ts'
export type { ChainCommonOptions, SupportedHardfork } from './rules/common.ts'
export { createChainCommon, DEFAULT_HARDFORK, SUPPORTED_HARDFORKS } from './rules/common.ts'
export { checkForkId, type ForkId, type ForkPoints, forkHash, forkId, forkPointsOf } from './rules/fork-id.ts'
export type { GenesisAccount, GenesisSpec } from './rules/genesis.ts'
export { devGenesis, genesisSchema, parseGenesis } from './rules/genesis.ts'
export { buildGenesisBlock } from './rules/genesis-block.ts'
export { type PreimageIndex, StatePreimages } from './state/preimages.ts'
export type { AccountProof } from './state/proof.ts'
export { accountProof } from './state/proof.ts'
export type { RawGet, StateProblem, StateWalkStats } from './state/state-walk.ts'
export { walkStateTrie } from './state/state-walk.ts'
export type { StateReader } from './state-reader.ts'
export { decodeBlock, type KnownTx } from './store/block-decode.ts'
export { encodeBlock } from './store/block-encode.ts'
export { blockSize } from './store/block-size.ts'
export { encodeChainFileBlock, readChainFile } from './store/chain-file.ts'
export type { CheckOptions, CheckProblem, CheckReport } from './store/check.ts'
export { checkChain, receiptsRoot } from './store/check.ts'
export type { StoredBlocks, StoredChainView } from './store/open-store.ts'
export { openStoredChain } from './store/open-store.ts'
export type { RawLog, StoredReceipt } from './store/receipt.ts'
export { decodeReceipts, encodeConsensusReceipt, encodeReceipts, logsBloom } from './store/receipt.ts'
export { rlpItemLength } from './store/rlp-items.ts'
export { signingHash } from './store/signing-hash.ts'
export type { HeadName, TxLocation } from './store/store.ts'
export { readStoredGenesis } from './store/stored-genesis.ts'
export { encodedTx, seedEncodedTx, txHashHex, txSender, txSenderHex } from './store/tx-cache.ts'
export { decodeTransaction } from './store/tx-decode.ts'
