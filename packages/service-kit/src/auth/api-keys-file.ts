import { readFileSync } from 'node:fs'
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { ServiceErrorCode } from '../errors.ts'
import type { RoleTable } from './roles.ts'

/** One entry of an API keys file: who, with which role, and the key in the clear (hashed on load by the authenticator). */
export interface ApiKeyFileEntry<R extends string> {
  name: string
  role: R
  key: string
}

/**
 * Reads a service's `--api-keys-file`: a JSON array of `{name, role, key}` (at most 1,000; keys of
 * at least 16 characters; roles from the service's table). A file that cannot be read or does not
 * match is the caller's mistake, said with the file and what to write (SERVICE_CONFIG_INVALID).
 */
export function readApiKeysFile<R extends string>(file: string, roles: RoleTable<R>): ApiKeyFileEntry<R>[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new CairnError(ServiceErrorCode.CONFIG_INVALID, `cannot read the API keys file ${file} as JSON`, {
      fault: 'caller',
      cause: err,
    })
  }
  return parseApiKeys(text, file, roles)
}

/** The entries of an API keys file's text (read through service-kit's Secrets, say); `file` names it in errors. */
export function parseApiKeys<R extends string>(text: string, file: string, roles: RoleTable<R>): ApiKeyFileEntry<R>[] {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new CairnError(ServiceErrorCode.CONFIG_INVALID, `cannot read the API keys file ${file} as JSON`, {
      fault: 'caller',
      cause: err,
    })
  }
  const schema = z
    .array(
      z.object({
        name: z.string().min(1).max(64),
        role: z.enum(roles.roles as [R, ...R[]]),
        key: z.string().min(16, 'API keys must be at least 16 characters'),
      }),
    )
    .max(1000)
  const r = schema.safeParse(json)
  if (!r.success) {
    const example = roles.roles[roles.roles.length - 1]
    throw new CairnError(ServiceErrorCode.CONFIG_INVALID, `bad API keys file ${file}: ${z.prettifyError(r.error)}`, {
      fault: 'caller',
      hint: `write [{"name":"ops","role":"${example}","key":"<openssl rand -hex 32>"}]`,
    })
  }
  return r.data as ApiKeyFileEntry<R>[]
}
