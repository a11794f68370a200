/**
 * Keys in a PKCS#11 HSM (`@cairn/keys`): a {@link Pkcs11Token} found by label
 * and logged in with its PIN, and {@link Pkcs11Key}s on it that sign digests for the signers
 * (`ValidatorSigner`, the remote signer). Importing this loads nothing native: the pkcs11js binding
 * is imported when a token is opened. See docs/operations/keys.md.
 */
export {
  ecPointToPublicKey,
  isSecp256k1Params,
  publicKeyToEcPoint,
  SECP256K1_OID_DER,
  toRecoverableSignature,
} from './ec-key.ts'
export type { HsmMetrics } from './hsm-metrics.ts'
export { createHsmMetrics } from './hsm-metrics.ts'
export type { HsmTokenSource, OpenHsmTokenModules } from './open-token.ts'
export { openHsmToken } from './open-token.ts'
export type { Pkcs11KeyModules, Pkcs11KeyOptions } from './pkcs11-key.ts'
export { Pkcs11Key } from './pkcs11-key.ts'
export type { LoadedModule } from './pkcs11-module.ts'
export { loadPkcs11Module, pkcs11Code } from './pkcs11-module.ts'
export type { HsmKeyInfo, Pkcs11TokenModules, Pkcs11TokenOptions } from './pkcs11-token.ts'
export { Pkcs11Token } from './pkcs11-token.ts'
