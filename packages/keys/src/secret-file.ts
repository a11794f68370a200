/**
 * Files that hold secrets (a key, a keystore's password, an HSM PIN): readable by their owner only,
 * as geth's keystore and the node's validator key are. Errors name the file, never its content.
 */
import { readFileSync, statSync } from 'node:fs'
import { CairnError, errorMessage } from '@cairn/utils'
import { KeysErrorCode } from './errors.ts'

const unreadable = (message: string, hint: string, cause?: unknown) =>
  new CairnError(KeysErrorCode.KEY_UNREADABLE, message, { fault: 'caller', hint, ...(cause ? { cause } : {}) })

/** The text of `path` (labelled `what` in errors), refused when others can read or write it. */
export function readSecretFile(path: string, what: string): string {
  let mode: number
  let text: string
  try {
    mode = statSync(path).mode & 0o777
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw unreadable(`cannot read the ${what} ${path}: ${errorMessage(err)}`, 'check the path', err)
  }
  if ((mode & 0o077) !== 0)
    throw new CairnError(
      KeysErrorCode.KEY_FILE_PERMISSIONS,
      `the ${what} ${path} has mode ${mode.toString(8).padStart(4, '0')}: other users can read or write it`,
      { fault: 'caller', hint: `run \`chmod 600 ${path}\` (and check who could have read it)` },
    )
  return text
}

/** A PIN or password in a file: its content without one trailing newline; never empty. */
export function readPinFile(path: string, what = 'PIN file'): string {
  const pin = readSecretFile(path, what).replace(/\r?\n$/, '')
  if (pin === '') throw unreadable(`the ${what} ${path} is empty`, 'write the PIN into it')
  return pin
}
