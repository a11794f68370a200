/**
 * @cairn/crypto: signatures (secp256k1), hashing (keccak-256, sha-256), Web3 keystores, BIP-39/32/44
 * HD keys, EIP-55 addresses, and the `customCrypto` object for @ethereumjs.
 */
export { isValidChecksumAddress, toChecksumAddress } from './address.ts'
export type { Argon2idParams } from './argon2.ts'
export { argon2id, jsArgon2id } from './argon2.ts'
export type { BlobKzg } from './blob-kzg.ts'
export { BYTES_PER_BLOB, blobKzg, CELLS_PER_EXT_BLOB, pureJsBlobKzg } from './blob-kzg.ts'
export type { CairnCustomCrypto, CustomCryptoOptions, EcsignOptions } from './custom-crypto.ts'
export { createCustomCrypto, recoveryFromV } from './custom-crypto.ts'
export { ecdsaToDer } from './ecdsa-der.ts'
export { CryptoErrorCode } from './errors.ts'
export type { HdAccount } from './hd.ts'
export {
  DEFAULT_HD_BASE_PATH,
  DEFAULT_HD_PATH,
  deriveAccounts,
  generateMnemonic,
  mnemonicFromEntropy,
  mnemonicToPrivateKey,
  mnemonicToSeed,
  validateMnemonic,
} from './hd.ts'
export type { CryptoBackends } from './init.ts'
export { cryptoBackends, initCrypto } from './init.ts'
export type { KeccakBackend } from './keccak.ts'
export { jsKeccak256, keccak256, keccakBackend, sha256, wasmKeccak256 } from './keccak.ts'
export type {
  EncryptKeystoreOptions,
  KeystoreV3,
  KeystoreV3Crypto,
  Pbkdf2KdfParams,
  ScryptKdfParams,
} from './keystore.ts'
export { decryptKeystore, encryptKeystore, KEYSTORE_DEFAULT_SCRYPT } from './keystore.ts'
export type { KzgBackend } from './kzg.ts'
export { kzgBackend, lazyKzg } from './kzg.ts'
export type { MlDsaKeyPair, MlDsaSignOptions, MlDsaVerifyOptions } from './ml-dsa.ts'
export {
  ML_DSA_MAX_CONTEXT_BYTES,
  ML_DSA65_PUBLIC_KEY_BYTES,
  ML_DSA65_RANDOMNESS_BYTES,
  ML_DSA65_SECRET_KEY_BYTES,
  ML_DSA65_SEED_BYTES,
  ML_DSA65_SIGNATURE_BYTES,
  mlDsa65Keygen,
  mlDsa65PublicKey,
  mlDsa65Sign,
  mlDsa65Verify,
} from './ml-dsa.ts'
export type { RecoverJob, RecoverPoolOptions } from './recover-pool.ts'
export { RecoverPool } from './recover-pool.ts'
export type { EcdsaSignature, Secp256k1Backend, Secp256k1BackendName } from './secp256k1.ts'
export {
  ecdsaRecover,
  ecdsaSign,
  isValidPrivateKey,
  jsSecp256k1,
  nativeSecp256k1,
  privateKeyToAddress,
  privateKeyToPublicKey,
  publicKeyToAddress,
  secp256k1,
  secp256k1Backend,
  secp256k1FallbackReason,
} from './secp256k1.ts'
