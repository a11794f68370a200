/**
 * Stable error codes of @cairn/keys: a key that cannot be opened or cannot sign, and the remote
 * signer's. Never reused for another meaning once published. The HSM codes were
 * `CONSENSUS_BFT_HSM_*` until the keys left the consensus package (docs/operations/keys.md); the
 * remote signer's kept their `CONSENSUS_BFT_SIGNER_*` strings when its protocol and client moved here.
 */

/** Every error code this package throws on purpose. */
export const KeysErrorCode = {
  /** The PKCS#11 module (the HSM's library) cannot be loaded or initialized. */
  HSM_MODULE: 'KEYS_HSM_MODULE',
  /** No token with the configured label is present in any slot of the PKCS#11 module. */
  HSM_TOKEN_ABSENT: 'KEYS_HSM_TOKEN_ABSENT',
  /** The token refused the PIN (wrong, or the PIN is locked). */
  HSM_PIN_INCORRECT: 'KEYS_HSM_PIN_INCORRECT',
  /** No private key (or its public key object) with the configured label on the token. */
  HSM_KEY_ABSENT: 'KEYS_HSM_KEY_ABSENT',
  /** A key label that is already taken on the token (import, generate). */
  HSM_KEY_EXISTS: 'KEYS_HSM_KEY_EXISTS',
  /** The key is not secp256k1, or the token cannot make or use secp256k1 ECDSA keys. */
  HSM_KEY_UNSUPPORTED: 'KEYS_HSM_KEY_UNSUPPORTED',
  /** The key exists but gave no signature now (a token removed, a session lost): transient. */
  KEY_UNAVAILABLE: 'KEYS_KEY_UNAVAILABLE',
  /** A key source that cannot be read: a file absent or empty, not a key, a wrong password. */
  KEY_UNREADABLE: 'KEYS_KEY_UNREADABLE',
  /** Flags that give half a key source (an HSM without its PIN file…) or two at once. */
  KEY_SOURCE: 'KEYS_KEY_SOURCE',
  /** A file holding a secret (key, password, PIN) that other users can read or write. */
  KEY_FILE_PERMISSIONS: 'KEYS_KEY_FILE_PERMISSIONS',
  // The remote signer's codes (remote-signer/), published as `CONSENSUS_BFT_SIGNER_*` while the
  // signer lived in @cairn/consensus and kept as they are; `ConsensusErrorCode.BFT_SIGNER_*` are
  // these same strings.
  /** The remote signer cannot be reached, or did not answer in time: transient. */
  SIGNER_UNAVAILABLE: 'CONSENSUS_BFT_SIGNER_UNAVAILABLE',
  /** A remote signer message that breaks the protocol (bad frame, bad JSON, unknown method). */
  SIGNER_PROTOCOL: 'CONSENSUS_BFT_SIGNER_PROTOCOL',
  /** The remote signer's setup is unusable (no keys, a key asked for that it does not hold, a bad URL or TLS file). */
  SIGNER_CONFIG: 'CONSENSUS_BFT_SIGNER_CONFIG',
  /** The remote signer refused a transaction (its policy: recipient, value, chain, type): nothing was signed. */
  SIGNER_REFUSED: 'CONSENSUS_BFT_SIGNER_REFUSED',
} as const

/** One of the codes in {@link KeysErrorCode}. */
export type KeysErrorCode = (typeof KeysErrorCode)[keyof typeof KeysErrorCode]

declare module '@cairn/utils' {
  interface CairnErrorCodes {
    keys: KeysErrorCode
  }
}
