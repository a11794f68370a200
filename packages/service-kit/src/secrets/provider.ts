/**
 * One face for every secret a service reads (JWT secrets, API keys, the at-rest key, database URLs
 * and passwords, webhook secrets): a reference names where it lives, a provider per scheme reads it.
 *
 *   /etc/cairn/jwt.secret, file:/etc/cairn/jwt.secret   a file readable by its owner only
 *   env:CAIRN_JWT_SECRET                                 an environment variable (given by the config loader)
 *   age:/etc/cairn/secrets.age#jwt                       one entry of an age-encrypted bundle (SOPS/age style)
 *   vault:…, kms:…                                       a provider the operator registers (docs/operations/secrets.md)
 *
 * A plain path is a file; a URL (`postgres://…`) is not a reference at all, so a flag that took a
 * URL or a path takes a reference too without a new flag.
 */
export interface SecretProvider {
  /** The reference prefix before the colon: `file`, `env`, `age`, `vault`, … */
  readonly scheme: string
  /**
   * Whether the value may change while the service runs, so that a watcher should read it again
   * (a file, a mounted Kubernetes Secret, an encrypted bundle, a manager's lease); an environment
   * variable does not.
   */
  readonly rotates: boolean
  /**
   * The secret's bytes at `locator` (the reference after `scheme:`), `what` naming it in errors
   * (`--jwt-secret-file`). Throws SERVICE_SECRET_UNREADABLE or SERVICE_SECRET_FILE_PERMISSIONS;
   * an error names the reference, never the content.
   */
  read(locator: string, what: string): Promise<Uint8Array>
}

/** A reference split into its scheme and locator. */
export interface SecretRef {
  scheme: string
  locator: string
}

/**
 * The scheme and locator of `value` (`env:NAME`), or null when `value` is a URL (`postgres://…`,
 * given in the clear). A value without a scheme is a file path when `plainIsFile`, else null.
 */
export function parseSecretRef(value: string, plainIsFile = true): SecretRef | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return null
  const m = /^([a-z][a-z0-9+.-]*):(.*)$/s.exec(value)
  if (m) return { scheme: m[1]!, locator: m[2]! }
  return plainIsFile ? { scheme: 'file', locator: value } : null
}
