export { TypedEmitter } from './emitter.ts'
export type {
  CairnErrorCode,
  CairnErrorCodes,
  CairnErrorMeta,
  CairnErrorMetas,
  CairnErrorOptions,
  ErrorFault,
} from './errors.ts'
export { CairnError, errorMessage, isCairnError, walkCause } from './errors.ts'
export { fsyncDir } from './fsync-dir.ts'
export type { Hex } from './hex.ts'
export {
  bytesToBigInt,
  bytesToHex,
  concatBytes,
  equalsBytes,
  fromQuantity,
  hexToBytes,
  isHex,
  toQuantity,
  uintToBytes,
} from './hex.ts'
export type { LogFn, Logger } from './logger.ts'
export { type LogLevel, silentLogger, writerLogger } from './logger.ts'
export { startWorker } from './worker.ts'
