/**
 * The remote signer (`@cairn/consensus/remote-signer`): validator keys in a process of their own
 * with their own double-sign protection, and transaction keys under a policy, reached over mutual TLS. See docs/operations/keys.md.
 */
export { ConsensusErrorCode } from '../../errors.ts'
export type { ConsensusSigner, SignRefusal } from '../validator-signer.ts'
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
export type { SignerLimits } from './signer-limits.ts'
export { DEFAULT_SIGNER_LIMITS, resolveSignerLimits } from './signer-limits.ts'
export type { SignerServerMetrics } from './signer-metrics.ts'
export { createSignerServerMetrics, SIGNER_REFUSALS } from './signer-metrics.ts'
export type { SignerServerModules, SignerServerOptions } from './signer-server.ts'
export { certificateFingerprint, SignerServer } from './signer-server.ts'
