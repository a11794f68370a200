/**
 * Replaces a small file so that a crash leaves the old content or the new, never a mix, and the
 * new one is on disk before this returns: written to `<path>.tmp`, fsynced, renamed over `path`,
 * and the directory fsynced (the rename itself durable). What a signature record needs before the
 * signature leaves the process.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export function replaceFileDurably(path: string, body: string): void {
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, body)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  const dir = openSync(dirname(path), 'r')
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}
