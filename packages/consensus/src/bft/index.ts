/** Cairn's BFT consensus core (Tendermint): see docs/consensus/bft.md. */

export type { DigestKey } from '@cairn/keys'
export { rawDigestKey } from '@cairn/keys'
export type { BftConfig } from './bft-config.ts'
export { bftConfigSchema, parseBftConfig, resolveBftConfig } from './bft-config.ts'
export type {
  BftEngineModules,
  BftEngineOptions,
  BftScheduler,
  BftTransport,
  ValidatorUpdateSource,
} from './bft-engine.ts'
export { BftEngine, PENDING_EVIDENCE_KEY } from './bft-engine.ts'
export type { BftMetrics } from './bft-metrics.ts'
export { createBftMetrics } from './bft-metrics.ts'
export type { BftEvidenceCheck, BftRulesOptions } from './bft-rules.ts'
export { bftChainRules } from './bft-rules.ts'
export type { ByzantineMode, ByzantineModules, ByzantineOptions } from './byzantine.ts'
export { byzantineTransport } from './byzantine.ts'
export type { CommitCertificate, CommitSignature } from './certificate.ts'
export { decodeCertificate, encodeCertificate, verifyCertificate } from './certificate.ts'
export type { BftAction, BftEvent } from './events.ts'
export type { DuplicateVoteEvidence } from './evidence.ts'
export {
  decodeEvidence,
  duplicateVoteEvidence,
  EvidencePool,
  encodeEvidence,
  evidenceKey,
  verifyDuplicateVoteEvidence,
} from './evidence.ts'
export type { EvidencePoolModules, EvidencePoolOptions, SubmitResult } from './evidence-pool.ts'
export {
  DEFAULT_MAX_EVIDENCE_AGE_HEIGHTS,
  DEFAULT_MAX_PENDING_EVIDENCE,
  decodeEvidenceList,
  encodeEvidenceList,
} from './evidence-pool.ts'
export type { BftExtra } from './extra-data.ts'
export {
  BFT_EXTRA_VERSION,
  BFT_EXTRA_VERSION_EVIDENCE,
  BFT_EXTRA_VERSION_VALIDATORS,
  bftExtraEvidence,
  decodeBftExtra,
  encodeBftExtra,
  MAX_BLOCK_EVIDENCE,
  MAX_BLOCK_EVIDENCE_PQ,
  maxBftExtraBytes,
  maxBlockEvidence,
} from './extra-data.ts'
export type { Address, BlockHash, Proposal, SignedProposal, SignedVote, Vote, VoteType } from './messages.ts'
export { hashKey, MsgType, Step, signStepOf } from './messages.ts'
export type { SignatureVerifier } from './signing.ts'
export { BFT_DOMAIN, createVerifier, proposalDigest, recoverSigner, signDigest, voteDigest } from './signing.ts'
export type { BftStateMachineModules, BftStateMachineOptions, BftStateSnapshot } from './state-machine.ts'
export { BftStateMachine } from './state-machine.ts'
export type { Timeout, TimeoutConfig, TimeoutStep } from './timeouts.ts'
export { DEFAULT_TIMEOUTS, timeoutDuration } from './timeouts.ts'
export {
  decodeScheduleRecord,
  decodeValidatorChanges,
  encodeScheduleRecord,
  encodeValidatorChanges,
  type ScheduleRecord,
  sameChanges,
  type ValidatorChange,
  ValidatorSchedule,
} from './validator-schedule.ts'
export type { Validator, ValidatorChangeInput, ValidatorInput } from './validator-set.ts'
export { MAX_TOTAL_VOTING_POWER, ValidatorSet } from './validator-set.ts'
export type { AddVoteResult } from './vote-set.ts'
export { VoteSet } from './vote-set.ts'
export type { ConsensusWalModules, WalReplay, WalStorage } from './wal.ts'
export {
  ConsensusWal,
  decodeWalEvent,
  encodeWalEvent,
  eventHeight,
  FileWalStorage,
  frameWalRecord,
  MemoryWalStorage,
  parseWalSegment,
} from './wal.ts'
export type { WireMessage } from './wire.ts'
export { decodeWire, encodeWire } from './wire.ts'
