// The secrets of `cairn reserves serve`, read through service-kit's Secrets: each flag takes a path
// (owner-only, refused otherwise), `env:NAME`, or `age:FILE#NAME` (an age-encrypted bundle). The JWT
// secret, the API keys and the database password are watched and put in force without a restart;
// the at-rest key and the report key are read once (rows sealed under a key need that key).
// See docs/operations/secrets.md.
import { parseApiKeys, Secrets, type SecretWatch } from '@cairn/service-kit'
import type { Logger } from '@cairn/utils'
import { type AtRestKey, parseKeyFile } from '../kernel/at-rest.ts'
import { type ApiKey, checkHmacSecret, RESERVES_ROLES } from '../kernel/auth.ts'
import type { AuthRotation } from '../kernel/authenticator.ts'

/** The flags that name secrets (a path, `env:NAME`, `age:FILE#NAME`; a URL given in the clear is kept). */
export interface SecretFlags {
  keyFile?: string
  jwtSecretFile?: string
  apiKeysFile?: string
  databaseUrl?: string
  databasePasswordFile?: string
  redisUrl?: string
  'rateLimit.redisUrl'?: string
  reportKeyFile?: string
  ageIdentityFile?: string
}

/** What the secret flags hold, read and checked. */
export interface ServeSecrets {
  secrets: Secrets
  key: AtRestKey
  jwtSecret: Uint8Array | null
  apiKeys: ApiKey[]
  /** The API keys file's bytes as read (what a rotation is compared against). */
  apiKeysBytes: Uint8Array | null
  databaseUrl: string | undefined
  /** The database password, read again for every new connection (a rotated one applies at once). */
  databasePassword: (() => Promise<string>) | undefined
  redisUrl: string | undefined
  rateRedisUrl: string | undefined
  /** The report signing key's text (PEM or hex). */
  reportKey: string | undefined
}

/**
 * The reader of `serve`'s secrets: `env:` reads `env` (the process environment: the CLI is this
 * service's config loader), `age:` opens with `--age-identity-file`, else `CAIRN_AGE_IDENTITY_FILE`.
 */
export function openSecrets(
  ageIdentityFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  modules: { logger?: Logger; pollMs?: number } = {},
): Secrets {
  const identity = ageIdentityFile ?? env.CAIRN_AGE_IDENTITY_FILE
  return new Secrets(
    {
      env,
      ageIdentityFiles: identity ? [identity] : [],
      ...(modules.pollMs ? { pollMs: modules.pollMs } : {}),
    },
    modules.logger ? { logger: modules.logger } : {},
  )
}

const text = (b: Uint8Array) => new TextDecoder().decode(b)

/** Reads every secret the flags name; the first that cannot be read (or is world-readable) stops the start. */
export async function readServeSecrets(o: SecretFlags & { keyFile: string }, secrets: Secrets): Promise<ServeSecrets> {
  const key = parseKeyFile(await secrets.readText(o.keyFile, '--key-file'))
  const jwtSecret = o.jwtSecretFile ? await secrets.read(o.jwtSecretFile, '--jwt-secret-file') : null
  checkHmacSecret(jwtSecret, `--jwt-secret-file ${o.jwtSecretFile}`)
  const apiKeysBytes = o.apiKeysFile ? await secrets.read(o.apiKeysFile, '--api-keys-file') : null
  const apiKeys = o.apiKeysFile && apiKeysBytes ? parseApiKeys(text(apiKeysBytes), o.apiKeysFile, RESERVES_ROLES) : []
  const resolve = (v: string | undefined, what: string) => (v ? secrets.resolve(v, what) : Promise.resolve(undefined))
  const passwordRef = o.databasePasswordFile
  if (passwordRef) await secrets.readText(passwordRef, '--database-password-file') // refused now, not at the first query
  return {
    secrets,
    key,
    jwtSecret,
    apiKeys,
    apiKeysBytes,
    databaseUrl: await resolve(o.databaseUrl, '--database-url'),
    databasePassword: passwordRef ? () => secrets.readText(passwordRef, '--database-password-file') : undefined,
    redisUrl: await resolve(o.redisUrl, '--redis-url'),
    rateRedisUrl: await resolve(o['rateLimit.redisUrl'], '--rate-limit.redis-url'),
    reportKey: o.reportKeyFile ? await secrets.readText(o.reportKeyFile, '--report-key-file') : undefined,
  }
}

/**
 * Watches the JWT secret and the API keys: a new value that reads and checks cleanly goes to
 * `rotate` (the running service's authenticator); one that does not is logged and the old stays.
 */
export function watchAuthSecrets(o: SecretFlags, s: ServeSecrets, rotate: (next: AuthRotation) => void): SecretWatch[] {
  const watches: SecretWatch[] = []
  const { jwtSecretFile, apiKeysFile } = o
  if (jwtSecretFile && s.jwtSecret)
    watches.push(
      s.secrets.watch(jwtSecretFile, '--jwt-secret-file', s.jwtSecret, (next) => {
        checkHmacSecret(next, `--jwt-secret-file ${jwtSecretFile}`)
        rotate({ jwtSecret: next })
      }),
    )
  if (apiKeysFile && s.apiKeysBytes)
    watches.push(
      s.secrets.watch(apiKeysFile, '--api-keys-file', s.apiKeysBytes, (next) =>
        rotate({ apiKeys: parseApiKeys(text(next), apiKeysFile, RESERVES_ROLES) }),
      ),
    )
  return watches
}
