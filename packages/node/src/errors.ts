/** Error codes of the node: the CLI's commands, the datadir, keys, backups and readiness. Stable: never reuse a retired code. */
export const NodeErrorCode = {
  ACCOUNT_EXISTS: 'NODE_ACCOUNT_EXISTS',
  ACCOUNT_UNKNOWN: 'NODE_ACCOUNT_UNKNOWN',
  DATADIR_UNUSABLE: 'NODE_DATADIR_UNUSABLE',
  GENESIS_UNREADABLE: 'NODE_GENESIS_UNREADABLE',
  HEAD_STALE: 'NODE_HEAD_STALE',
  HEAD_STUCK: 'NODE_HEAD_STUCK',
  /** /ready: fewer peers than --p2p.min-peers. */
  FEW_PEERS: 'NODE_FEW_PEERS',
  /** /ready: syncing, far behind the best peer. */
  SYNCING: 'NODE_SYNCING',
  IMPORT_INVALID: 'NODE_IMPORT_INVALID',
  IMPORT_UNREADABLE: 'NODE_IMPORT_UNREADABLE',
  PASSWORD_MISMATCH: 'NODE_PASSWORD_MISMATCH',
  PASSWORD_MISSING: 'NODE_PASSWORD_MISSING',
  PASSWORD_UNREADABLE: 'NODE_PASSWORD_UNREADABLE',
  RPC_UNAVAILABLE: 'NODE_RPC_UNAVAILABLE',
  ADMIN_BAD_REQUEST: 'ADMIN_BAD_REQUEST',
  ADMIN_BAD_RESPONSE: 'ADMIN_BAD_RESPONSE',
  ADMIN_FAILED: 'ADMIN_FAILED',
  ADMIN_TIMEOUT: 'ADMIN_TIMEOUT',
  AUTH_BAD_KEY: 'AUTH_BAD_KEY',
  AUTH_NO_KEY: 'AUTH_NO_KEY',
  BACKUP_INCONSISTENT: 'BACKUP_INCONSISTENT',
  BACKUP_INVALID: 'BACKUP_INVALID',
  BACKUP_MANIFEST_INVALID: 'BACKUP_MANIFEST_INVALID',
  BACKUP_TARGET_INVALID: 'BACKUP_TARGET_INVALID',
  BACKUP_TARGET_NOT_EMPTY: 'BACKUP_TARGET_NOT_EMPTY',
  RESTORE_TARGET_NOT_EMPTY: 'RESTORE_TARGET_NOT_EMPTY',
  EXPORT_BLOCK_MISSING: 'EXPORT_BLOCK_MISSING',
  EXPORT_RANGE_INVALID: 'EXPORT_RANGE_INVALID',
  // The validator's key files are @cairn/consensus privval/'s, which throws ConsensusErrorCode.KEY_*: the
  // same strings as these (kept here for the node's own key files and for callers that test them).
  KEY_FILE_INVALID: 'KEY_FILE_INVALID',
  KEY_FILE_PERMISSIONS: 'KEY_FILE_PERMISSIONS',
  KEY_ROTATION_HEIGHT: 'KEY_ROTATION_HEIGHT',
  KEY_ROTATION_INVALID: 'KEY_ROTATION_INVALID',
  KEY_ROTATION_NO_KEY: 'KEY_ROTATION_NO_KEY',
  KEY_ROTATION_PENDING: 'KEY_ROTATION_PENDING',
  /** The next consensus key's promotion: a retired key file, or the key files, are not the keys expected. */
  KEY_PROMOTION_CONFLICT: 'KEY_PROMOTION_CONFLICT',
  /** `validator.next.key` without `validator.key`: a key file moved by hand (the start refuses it). */
  KEY_PROMOTION_INTERRUPTED: 'KEY_PROMOTION_INTERRUPTED',
  /** A promotion asked for with no next key (or no current key) to promote. */
  KEY_PROMOTION_NOTHING: 'KEY_PROMOTION_NOTHING',
  /** `cairn devnet`: the directory already holds a devnet (init) or none (start). */
  DEVNET_DIR: 'NODE_DEVNET_DIR',
  /** `devnet init` options that cannot go together (e.g. staking parameters on a hybrid devnet). */
  DEVNET_OPTIONS: 'NODE_DEVNET_OPTIONS',
  /** A transaction command's signing key flags are missing, conflicting or unreadable. */
  TX_SIGNER: 'NODE_TX_SIGNER',
  /** A staking or governance transaction that the contract refused (its custom error names the rule). */
  TX_REFUSED: 'NODE_TX_REFUSED',
  ENGINE_MISMATCH: 'NODE_ENGINE_MISMATCH',
} as const
export type NodeErrorCode = (typeof NodeErrorCode)[keyof typeof NodeErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    node: NodeErrorCode
  }
}
