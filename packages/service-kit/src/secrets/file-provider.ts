import { readFileSync, statSync } from 'node:fs'
import { CairnError, errorMessage } from '@cairn/utils'
import { ServiceErrorCode } from '../errors.ts'
import type { SecretProvider } from './provider.ts'

/**
 * The bytes of a secret file, refused when users other than its owner may read or write it (mode
 * & 0o077, as the keystores and the validator key refuse). The mode is the target's: a mounted
 * Kubernetes Secret's file is a symlink into its `..data` directory, and `defaultMode: 0400` makes
 * the target owner-only.
 */
export function readOwnerOnlyFile(path: string, what: string): Uint8Array {
  let mode: number
  let bytes: Buffer
  try {
    mode = statSync(path).mode & 0o777
    bytes = readFileSync(path)
  } catch (err) {
    throw new CairnError(ServiceErrorCode.SECRET_UNREADABLE, `cannot read the ${what} ${path}: ${errorMessage(err)}`, {
      fault: 'caller',
      hint: 'check the path (and that the secret is mounted)',
      cause: err,
    })
  }
  if ((mode & 0o077) !== 0)
    throw new CairnError(
      ServiceErrorCode.SECRET_FILE_PERMISSIONS,
      `the ${what} ${path} has mode ${mode.toString(8).padStart(4, '0')}: other users can read or write it`,
      {
        fault: 'caller',
        hint: `run \`chmod 600 ${path}\` and rotate the secret if someone could have read it (Kubernetes: defaultMode: 0400, no fsGroup on the pod)`,
      },
    )
  return new Uint8Array(bytes)
}

/** `file:PATH` (or a plain path): a file readable by its owner only, read again on every call. */
export class FileSecretProvider implements SecretProvider {
  readonly scheme = 'file'
  readonly rotates = true

  async read(locator: string, what: string): Promise<Uint8Array> {
    return readOwnerOnlyFile(locator, what)
  }
}
