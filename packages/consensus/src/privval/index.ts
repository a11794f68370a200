/**
 * Everything a validator signs with (`@cairn/consensus/privval`; CometBFT's `privval/`), in one
 * place, behind one call: {@link openValidatorSigner} (open-validator-signer.ts) gives the node
 * the signer its config names. Inside:
 * - the engine's {@link ConsensusSigner} and the in-process backend, {@link ValidatorSigner} behind
 *   a double-sign {@link SignerState} ({@link FileSignerState} in the datadir);
 * - the validator's key files in the datadir: the key (key-file.ts), a height-scheduled rotation
 *   (validator-rotation.ts), the ML-DSA seeds (pq-seed-file.ts, hsm-pq-seeds.ts) and the promotion
 *   of the next key once the chain rotated (promote-next-key.ts) — the entry
 *   `@cairn/consensus/validator-keys` (validator-keys.ts), which loads no signer;
 * - the signers per backend and scheme: post-quantum keys (pq-digest-key.ts) and signers
 *   (pq-signer.ts), a key on a PKCS#11 token (hsm-signer.ts);
 * - the remote signer: the validator's client ({@link RemoteSigner}) and the `cairn signer serve`
 *   process ({@link SignerServer}, its connection limits and metrics, its own protection record
 *   protection-db.ts).
 * Keys are `DigestKey`s (@cairn/keys): in process or on a PKCS#11 token. The signer's wire
 * protocol and the transaction client are @cairn/keys `remote-signer/`. See docs/operations/keys.md.
 */
export { ConsensusErrorCode } from '../errors.ts'
export { FileSignerState } from './file-signer-state.ts'
export type { HsmHybridOptions, HsmPqRotation, HsmSignerModules } from './hsm-signer.ts'
export { openHsmSigner } from './hsm-signer.ts'
export type {
  OpenedValidatorSigner,
  OpenValidatorSignerModules,
  ValidatorChain,
  ValidatorDatadir,
} from './open-validator-signer.ts'
export { openValidatorSigner } from './open-validator-signer.ts'
export type {
  HybridDigestKeyOptions,
  PqDigestKeyModules,
  PqDigestKeyOptions,
  SchemeDigestKey,
} from './pq-digest-key.ts'
export { hybridDigestKey, mlDsaDigestKey } from './pq-digest-key.ts'
export type { PqValidatorSigner } from './pq-signer.ts'
export {
  checkGenesisPqKey,
  checkHybridSignerKind,
  checkPqSignerKind,
  checkPqSignerRotation,
  hybridValidatorSigner,
  mlDsaValidatorSigner,
  pqValidatorSigner,
} from './pq-signer.ts'
export type { ProtectionCheck, ProtectionRecord, ProtectionRule, ProtectionStore } from './protection-db.ts'
export {
  checkProtection,
  DEFAULT_MAX_HEIGHT_JUMP,
  FileProtectionStore,
  MemoryProtectionStore,
  SignProtection,
} from './protection-db.ts'
export type { RemoteSignerMetrics, RemoteSignerModules, RemoteSignerOptions } from './remote-signer.ts'
export { createRemoteSignerMetrics, RemoteSigner } from './remote-signer.ts'
export type { SessionDrop } from './served-connection.ts'
export { SESSION_DROPS } from './served-connection.ts'
export type { HsmSignerConfig, RemoteSignerConfig, ValidatorSignerConfig } from './signer-config.ts'
export type { SignerLimits } from './signer-limits.ts'
export { DEFAULT_SIGNER_LIMITS, resolveSignerLimits } from './signer-limits.ts'
export type { SignerServerMetrics } from './signer-metrics.ts'
export { createSignerServerMetrics, SIGNER_REFUSALS } from './signer-metrics.ts'
export type { SignerServerModules, SignerServerOptions } from './signer-server.ts'
export { certificateFingerprint, SignerServer } from './signer-server.ts'
export type { SignCheck, SignedRecord, SignerState, SignStep } from './signer-state.ts'
export { checkSign, MemorySignerState } from './signer-state.ts'
export type {
  ConsensusSigner,
  SignRefusal,
  ValidatorSignerModules,
  ValidatorSignerOptions,
} from './validator-signer.ts'
export { ValidatorSigner } from './validator-signer.ts'
