/**
 * The remote signer's wire protocol and its clients' side (`@cairn/keys/remote-signer`): frames,
 * requests and answers (protocol.ts), the mutual-TLS connection and handshake
 * (signer-connection.ts), the transaction policy a signer checks before it signs (tx-policy.ts) and
 * the transaction client the products sign with under `--remote-signer` (tx-client.ts). The
 * signer process itself (`cairn signer serve`: `SignerServer`, its protection record) and the
 * validator's client (`RemoteSigner`) are @cairn/consensus `privval/`. See docs/operations/keys.md.
 */
export type { FrameRejection, KeysResult, SignerRequest, SignerResponse, SignerScheme } from './protocol.ts'
export {
  boundMessage,
  describeRequestProblem,
  encodeFrame,
  FRAME_REJECTIONS,
  FrameReader,
  frameRejectionOf,
  MAX_ERROR_MESSAGE_CHARS,
  MAX_FRAME_BYTES,
  MAX_ROUND,
  PROTOCOL_VERSION,
  parseResponse,
  RequestSchema,
  SignerErrorCode,
} from './protocol.ts'
export type { SignerTls } from './signer-connection.ts'
export { askKeys, askOnce, openSocket, parseSignerUrl } from './signer-connection.ts'
export type { RemoteTxSignerMetrics, RemoteTxSignerModules, RemoteTxSignerOptions } from './tx-client.ts'
export { createRemoteTxSignerMetrics, openRemoteTxAccount, RemoteTxSigner } from './tx-client.ts'
export type { AllowedRecipient, TxCheck, TxPolicy } from './tx-policy.ts'
export { checkTransaction, OPEN_TX_POLICY } from './tx-policy.ts'
