import { KeysErrorCode } from '@cairn/keys'

/** Error codes of the consensus domain (block production and its rules). Stable: never reuse a retired code. */
export const ConsensusErrorCode = {
  INVALID_DIFFICULTY: 'CONSENSUS_INVALID_DIFFICULTY',
  STORAGE_UNWRITABLE: 'CONSENSUS_STORAGE_UNWRITABLE',
  TIMESTAMP_TOO_HIGH: 'CONSENSUS_TIMESTAMP_TOO_HIGH',
  TIMESTAMP_TOO_LOW: 'CONSENSUS_TIMESTAMP_TOO_LOW',
  /** anvil_rollback deeper than the chain. */
  ROLLBACK_TOO_DEEP: 'CONSENSUS_ROLLBACK_TOO_DEEP',
  /** anvil_reorg deeper than the chain. */
  REORG_TOO_DEEP: 'CONSENSUS_REORG_TOO_DEEP',
  /** A rewind to a block number the canonical chain does not have. */
  UNKNOWN_BLOCK: 'CONSENSUS_UNKNOWN_BLOCK',
  /** A transaction a sender waits for (automine) was dropped instead of sealed. */
  TX_DROPPED: 'CONSENSUS_TX_DROPPED',
  /** The engine was asked to produce before `attach({ chain, pool })` (a wiring bug). */
  NOT_ATTACHED: 'CONSENSUS_NOT_ATTACHED',
  /** A BFT message, certificate or evidence that does not decode (bad RLP, wrong field sizes). */
  BFT_MALFORMED: 'CONSENSUS_BFT_MALFORMED',
  /** A commit certificate that does not prove > 2/3 of the voting power precommitted the block. */
  BFT_INVALID_CERTIFICATE: 'CONSENSUS_BFT_INVALID_CERTIFICATE',
  /** Duplicate-vote evidence that does not prove an equivocation. */
  BFT_INVALID_EVIDENCE: 'CONSENSUS_BFT_INVALID_EVIDENCE',
  /** A validator set that cannot be used (empty, zero or negative power, duplicate addresses). */
  BFT_INVALID_VALIDATOR_SET: 'CONSENSUS_BFT_INVALID_VALIDATOR_SET',
  /** The signer state refused to sign: it would conflict with what this key already signed. */
  BFT_DOUBLE_SIGN_REFUSED: 'CONSENSUS_BFT_DOUBLE_SIGN_REFUSED',
  /** `config.cairn.bft` of the genesis is missing or invalid. */
  BFT_INVALID_CONFIG: 'CONSENSUS_BFT_INVALID_CONFIG',
  /** A BFT block header that breaks the engine's rules (proposer, extra data, parent certificate). */
  BFT_INVALID_HEADER: 'CONSENSUS_BFT_INVALID_HEADER',
  /** The signer-state file cannot be read, parsed or written. */
  BFT_SIGNER_STATE_UNUSABLE: 'CONSENSUS_BFT_SIGNER_STATE_UNUSABLE',
  // The remote signer's four codes are @cairn/keys' (where its protocol and client live), same strings.
  /** The remote signer cannot be reached, or did not answer in time (a validator then misses the step). */
  BFT_SIGNER_UNAVAILABLE: KeysErrorCode.SIGNER_UNAVAILABLE,
  /** A remote signer message that breaks the protocol (bad frame, bad JSON, unknown method). */
  BFT_SIGNER_PROTOCOL: KeysErrorCode.SIGNER_PROTOCOL,
  /** The remote signer's setup is unusable (no keys, a key the node asks for it does not hold, bad TLS files). */
  BFT_SIGNER_CONFIG: KeysErrorCode.SIGNER_CONFIG,
  /** The remote signer refused a transaction (its policy: recipient, value, chain, type): nothing was signed. */
  BFT_SIGNER_REFUSED: KeysErrorCode.SIGNER_REFUSED,
  /** A consensus WAL record that fails its checksum and is not the last one (damage, not a torn write). */
  BFT_WAL_CORRUPT: 'CONSENSUS_BFT_WAL_CORRUPT',
  /** The consensus WAL directory or a segment cannot be created, read or written. */
  BFT_WAL_UNUSABLE: 'CONSENSUS_BFT_WAL_UNUSABLE',
  /** This node's validator schedule could not be read back from its chain (a store error): no header is judged meanwhile. */
  BFT_SCHEDULE_UNAVAILABLE: 'CONSENSUS_BFT_SCHEDULE_UNAVAILABLE',
  /**
   * This node's own validator records disagree with each other (the updates it recorded for a
   * block's parent do not apply to its schedule, or the schedule holds other changes for a height):
   * a fault here, not the block's — nothing is remembered as bad, no peer penalised.
   */
  BFT_RECORDS_INCONSISTENT: 'CONSENSUS_BFT_RECORDS_INCONSISTENT',
  /** A staking system call reverted or ran out of gas (a broken chain: the block cannot be made). */
  STAKING_SYSTEM_CALL_FAILED: 'CONSENSUS_STAKING_SYSTEM_CALL_FAILED',
  /** `config.cairn.bft.staking` or the staking genesis is missing or invalid. */
  STAKING_INVALID_GENESIS: 'CONSENSUS_STAKING_INVALID_GENESIS',
  /** The chain reached a scheduled upgrade this build does not know: the node stops there. */
  UPGRADE_REQUIRED: 'CONSENSUS_UPGRADE_REQUIRED',
  // The validator's key files in the datadir (privval/: key-file.ts, validator-rotation.ts,
  // promote-next-key.ts). Published as the node's codes (`NodeErrorCode.KEY_*`, the same strings)
  // before these files moved here; kept as they are.
  /** A key or ML-DSA seed file that is absent (where required) or holds no valid key. */
  KEY_FILE_INVALID: 'KEY_FILE_INVALID',
  /** A key or seed file readable or writable by other users than its owner. */
  KEY_FILE_PERMISSIONS: 'KEY_FILE_PERMISSIONS',
  /** A height-scheduled rotation to a height that is not above the head. */
  KEY_ROTATION_HEIGHT: 'KEY_ROTATION_HEIGHT',
  /** A height-scheduled rotation that is incomplete or unreadable (`validator.rotation.json`, `validator.next.key`). */
  KEY_ROTATION_INVALID: 'KEY_ROTATION_INVALID',
  /** A rotation asked for with no `validator.key` to rotate. */
  KEY_ROTATION_NO_KEY: 'KEY_ROTATION_NO_KEY',
  /** A rotation asked for while another is pending. */
  KEY_ROTATION_PENDING: 'KEY_ROTATION_PENDING',
  /** The next consensus key's promotion: a retired key file, or the key files, are not the keys expected. */
  KEY_PROMOTION_CONFLICT: 'KEY_PROMOTION_CONFLICT',
  /** `validator.next.key` without `validator.key`: a key file moved by hand (the start refuses it). */
  KEY_PROMOTION_INTERRUPTED: 'KEY_PROMOTION_INTERRUPTED',
  /** A promotion asked for with no next key (or no current key) to promote. */
  KEY_PROMOTION_NOTHING: 'KEY_PROMOTION_NOTHING',
} as const
export type ConsensusErrorCode = (typeof ConsensusErrorCode)[keyof typeof ConsensusErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    consensus: ConsensusErrorCode
  }
}
