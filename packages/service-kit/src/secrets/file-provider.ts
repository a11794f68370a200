import { readFileSync, statSync } from 'node:fs'
import { CairnError, errorMessage } from '@cairn/utils'
import { ServiceErrorCode } from '../errors.ts'
import type { SecretProvider } from './provider.ts'

/**
 * What is wrong with a secret file's owner and mode, or null: PostgreSQL's rule for its key files.
 * Owned by the user reading it: no bits for the group or others (0600 or less). Owned by root (and
 * read by another user): read for the group at most (0640 or less) — a Kubernetes Secret mounted on
 * a non-root pod is root-owned, and readable by the pod only through `fsGroup`, for which the
 * kubelet adds group read to every file (0440, group fsGroup). Others' bits are refused always.
 */
export function secretFileModeProblem(stat: { mode: number; uid: number }, readerUid: number): string | null {
  const mode = stat.mode & 0o777
  if ((mode & 0o007) !== 0) return 'other users can read or write it'
  const rootOwned = stat.uid === 0 && readerUid !== 0
  if (rootOwned ? (mode & 0o030) !== 0 : (mode & 0o070) !== 0)
    return rootOwned ? 'its group can write it' : 'users in its group can read or write it'
  return null
}

/**
 * The bytes of a secret file, refused by {@link secretFileModeProblem}. The mode is the target's:
 * a mounted Kubernetes Secret's file is a symlink into its `..data` directory.
 */
export function readOwnerOnlyFile(path: string, what: string): Uint8Array {
  let stat: { mode: number; uid: number }
  let bytes: Buffer
  try {
    stat = statSync(path)
    bytes = readFileSync(path)
  } catch (err) {
    throw new CairnError(ServiceErrorCode.SECRET_UNREADABLE, `cannot read the ${what} ${path}: ${errorMessage(err)}`, {
      fault: 'caller',
      hint: 'check the path (and that the secret is mounted)',
      cause: err,
    })
  }
  const problem = secretFileModeProblem(stat, process.getuid?.() ?? -1)
  if (problem !== null)
    throw new CairnError(
      ServiceErrorCode.SECRET_FILE_PERMISSIONS,
      `the ${what} ${path} has mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}: ${problem}`,
      {
        fault: 'caller',
        hint: `run \`chmod 600 ${path}\` and rotate the secret if someone could have read it (Kubernetes: the pod's fsGroup and defaultMode: 0440)`,
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
