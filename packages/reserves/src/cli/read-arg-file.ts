import { readFileSync } from 'node:fs'
import { CairnError } from '@cairn/utils'
import { ReservesErrorCode } from '../errors.ts'

/**
 * Reads the file a command-line flag names; a missing or unreadable file is the caller's mistake,
 * said with the flag and the path (exit 1 with one `error:` line), never a raw ENOENT.
 */
export function readArgFile(flag: string, path: string): Buffer
export function readArgFile(flag: string, path: string, encoding: 'utf8'): string
export function readArgFile(flag: string, path: string, encoding?: 'utf8'): Buffer | string {
  try {
    return encoding ? readFileSync(path, encoding) : readFileSync(path)
  } catch (err) {
    throw new CairnError(ReservesErrorCode.BAD_OPTIONS, `cannot read ${flag} ${path}: ${(err as Error).message}`, {
      fault: 'caller',
      cause: err,
      hint: `point ${flag} at a readable file`,
    })
  }
}
