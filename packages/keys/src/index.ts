/**
 * @cairn/keys: every secp256k1 key Cairn signs with, behind one face ({@link DigestKey}), wherever
 * it is held — in this process or on a PKCS#11 token — and the same key as a viem account for
 * transactions (account.ts), and a transaction key on a remote signer as the same kind of account
 * (`openRemoteTxAccount`; the signer's wire protocol is `@cairn/keys/remote-signer`). The consensus
 * signers, `cairn signer`, the arbitrage service and the reserves anchoring commands use it. Importing this loads nothing native: the pkcs11js binding is
 * imported when a token is opened. See docs/operations/keys.md.
 */
export { digestKeyAccount } from './account.ts'
export type { Address, DigestKey } from './digest-key.ts'
export { rawDigestKey, signDigest } from './digest-key.ts'
export { KeysErrorCode } from './errors.ts'
export * from './hsm/index.ts'
export type { HsmAccountModules, HsmKeySource } from './hsm-account.ts'
export { openHsmAccount } from './hsm-account.ts'
export type { ExternalKeyFlags, ExternalKeySource, RemoteKeySource } from './key-flags.ts'
export { EXTERNAL_KEY_OPTIONS, externalKeySource } from './key-flags.ts'
export type { RemoteTxSignerMetrics, RemoteTxSignerModules, RemoteTxSignerOptions } from './remote-signer/tx-client.ts'
export { createRemoteTxSignerMetrics, openRemoteTxAccount, RemoteTxSigner } from './remote-signer/tx-client.ts'
export { readPinFile, readSecretFile } from './secret-file.ts'
