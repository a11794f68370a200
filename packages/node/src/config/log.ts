import type { LoggerOptions } from '@cairn/service-kit'
import type { NodeConfig } from './schema.ts'

/** The logger's options from the node's `log.*` keys (stdout, plus a rotated file when `log.file` is set). */
export function loggerOptions(config: NodeConfig): LoggerOptions {
  const { level, modules, format, file, rotateSize, rotateInterval, rotateKeep } = config.log
  return {
    level,
    ...(modules ? { modules } : {}),
    format,
    ...(file ? { file: { path: file, size: rotateSize, interval: rotateInterval, keep: rotateKeep } } : {}),
  }
}
