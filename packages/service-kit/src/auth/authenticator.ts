import { LRUCache } from 'lru-cache'
import { type ApiKeyEntry, findApiKey } from './api-keys.ts'
import { type Hs256Policy, type JwtPayload, jwtHeader, verifyHs256 } from './hs256.ts'
import { JWKS_ALGORITHMS, type JwksVerifier } from './jwks.ts'
import { authInvalid } from './refusal.ts'
import { highestRole, isRole, type RoleTable } from './roles.ts'

/** HS256 tokens signed with a shared secret (geth's jwtsecret, `cairn reserves token`). */
export interface Hs256Auth<R extends string> extends Hs256Policy {
  secret: Uint8Array
  /** Role of a token without a `role` claim; null: such a token is refused. */
  defaultRole: R | null
}

/** RS256/ES256 tokens of an OAuth2/OIDC provider, and how their claims name a role. */
export interface JwksAuth<R extends string> {
  verifier: JwksVerifier
  /** Claim holding the role(s): a dotted path (`realm_access.roles`), a string or an array of strings. */
  roleClaim: string
  /** Claim value → role; a value that is a role name maps to itself; anything else is ignored. */
  roleMap?: Readonly<Record<string, R>>
  /** Role of a token whose claim maps to none; null: such a token is refused. */
  defaultRole: R | null
  /** Tokens must carry a non-empty `sub`. */
  requireSub?: boolean
}

export interface AuthenticatorOptions<R extends string> {
  apiKeys: readonly ApiKeyEntry<R>[]
  hs256: Hs256Auth<R> | null
  jwks: JwksAuth<R> | null
  /**
   * Verified tokens remembered by their full text (signature included, so no other token can
   * match an entry) until their `exp`: this many at most; 0: none. Only for tokens that carry
   * `exp` and whose `iat` is not checked against a leeway.
   */
  tokenCache?: number
}

/** Who proved what: the API key's name or the JWT's `sub` (never key material), and the role. */
export interface Credential<R extends string> {
  via: 'apiKey' | 'jwt'
  name: string | null
  role: R
  /** When the credential stops being valid (a JWT's `exp`, Unix seconds). */
  expiresAt?: number
}

/** The credential headers: `Authorization: Bearer <jwt or key>` or `x-api-key: <key>`. */
export interface CredentialHeaders {
  authorization?: string | undefined
  'x-api-key'?: string | string[] | undefined
}

/**
 * Turns request headers into a {@link Credential} for any service, given its role table: an API
 * key (`x-api-key`, or a Bearer value that is not a JWT; sha256-hashed and compared in constant
 * time), an HS256 JWT (the shared secret) or an RS256/ES256 JWT (the provider's JWKS), told apart
 * by the JWT header's `alg` — an asymmetric token is never checked with the HMAC secret nor an
 * HS256 token with a JWKS key, so algorithm confusion cannot turn a public key into a secret.
 * Resolves null when the request carries no credentials; rejects with SERVICE_AUTH_INVALID
 * (caller) saying why credentials are refused, or with a transient error when the JWKS cannot be
 * fetched. What a role may do is the service's (a method table, a route's role list).
 */
export class Authenticator<R extends string> {
  private readonly cache: LRUCache<string, Credential<R>> | null
  private apiKeys: readonly ApiKeyEntry<R>[]
  private hs256: Hs256Auth<R> | null

  constructor(
    readonly roles: RoleTable<R>,
    readonly opts: AuthenticatorOptions<R>,
  ) {
    const cacheable = opts.hs256?.iatLeewaySeconds === undefined
    this.cache = opts.tokenCache && cacheable ? new LRUCache({ max: opts.tokenCache }) : null
    this.apiKeys = opts.apiKeys
    this.hs256 = opts.hs256
  }

  /**
   * Puts a rotated HS256 secret and/or API key list in force (a watched secret changed, see
   * service-kit's Secrets): the next request is checked against the new ones only, and tokens
   * remembered under the old secret are forgotten. HS256 must have been configured at start.
   */
  rotate(next: { hs256Secret?: Uint8Array; apiKeys?: readonly ApiKeyEntry<R>[] }): void {
    if (next.hs256Secret && this.hs256) this.hs256 = { ...this.hs256, secret: next.hs256Secret }
    if (next.apiKeys) this.apiKeys = next.apiKeys
    this.cache?.clear()
  }

  async authenticate(headers: CredentialHeaders, nowMs = Date.now()): Promise<Credential<R> | null> {
    const xKey = Array.isArray(headers['x-api-key']) ? headers['x-api-key'][0] : headers['x-api-key']
    if (xKey) return this.byKey(xKey)
    if (!headers.authorization) return null
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization)?.[1]
    if (!bearer) throw authInvalid('unsupported Authorization scheme (use Bearer)')
    if (bearer.split('.').length !== 3) return this.byKey(bearer)
    const hit = this.cache?.get(bearer)
    if (hit && (hit.expiresAt ?? 0) * 1000 > nowMs) return hit
    const credential = await this.byJwt(bearer, nowMs)
    if (this.cache && credential.expiresAt !== undefined) this.cache.set(bearer, credential)
    return credential
  }

  private byKey(key: string): Credential<R> {
    const entry = findApiKey(this.apiKeys, key)
    if (!entry) throw authInvalid('unknown API key')
    return { via: 'apiKey', name: entry.name, role: entry.role }
  }

  private async byJwt(token: string, nowMs: number): Promise<Credential<R>> {
    const alg = jwtHeader(token)?.alg
    if (typeof alg !== 'string') throw authInvalid('malformed JWT (its header does not decode)')
    if (alg === 'HS256') {
      const hs = this.hs256
      if (!hs) throw authInvalid('HS256 JWTs are not accepted (no JWT secret configured)')
      const claims = verifyHs256(token, hs.secret, Math.floor(nowMs / 1000), hs)
      let role: R
      if (claims.role === undefined) {
        if (hs.defaultRole === null)
          throw authInvalid(`JWT has no role claim (sign it with a role: ${this.roles.roles.join(', ')})`)
        role = hs.defaultRole
      } else if (isRole(this.roles, claims.role)) role = claims.role
      else throw authInvalid(`JWT claim role must be one of ${this.roles.roles.join(', ')}`)
      return credential(role, claims)
    }
    const jwks = this.opts.jwks
    if (!jwks) {
      const known = (JWKS_ALGORITHMS as readonly string[]).includes(alg)
      throw authInvalid(known ? `JWTs signed with ${alg} need a JWKS URL` : `JWT alg ${alg} is not accepted`)
    }
    const payload = (await jwks.verifier.verify(token)) as JwtPayload
    if (jwks.requireSub && (typeof payload.sub !== 'string' || payload.sub.length === 0))
      throw authInvalid('JWT has no sub claim')
    const role = this.roleOf(payload, jwks) ?? jwks.defaultRole
    if (role === null)
      throw authInvalid(
        `the JWT has no ${jwks.roleClaim} claim naming a role (${this.roles.roles.join(', ')}, or a value the role map maps)`,
      )
    return credential(role, payload)
  }

  /** The highest role the role claim maps to, or undefined. */
  private roleOf(payload: JwtPayload, jwks: JwksAuth<R>): R | undefined {
    let value: unknown = payload
    for (const part of jwks.roleClaim.split('.')) {
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined
    }
    const names = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string')
    const mapped: R[] = []
    for (const name of names) {
      const role = jwks.roleMap?.[name] ?? (isRole(this.roles, name) ? name : undefined)
      if (role !== undefined) mapped.push(role)
    }
    return highestRole(this.roles, mapped)
  }
}

function credential<R extends string>(role: R, claims: JwtPayload): Credential<R> {
  const name = typeof claims.sub === 'string' ? claims.sub.slice(0, 128) : null
  return { via: 'jwt', name, role, ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp } : {}) }
}
