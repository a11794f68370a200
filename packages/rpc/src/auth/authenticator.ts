import { CairnError } from '@cairn/utils'
import { RpcErrorCode } from '../errors.ts'
import { type ApiKeyEntry, findApiKey } from './api-keys.ts'
import type { JwksOptions, JwksVerifier } from './jwks.ts'
import { verifyJwt } from './jwt.ts'
import type { Role } from './roles.ts'

export interface AuthOptions {
  /** Off: every caller is `admin` (the dev profile on loopback). */
  enabled: boolean
  apiKeys: readonly ApiKeyEntry[]
  /** The HS256 secret (32 bytes, as geth's jwtsecret file), or null for no HS256 JWTs. */
  jwtSecret: Uint8Array | null
  /** Role of an HS256 JWT without a `role` claim (`public` unless configured: least privilege). */
  jwtRole: Role
  /** An OIDC provider's JWKS for RS256/ES256 JWTs, or null. */
  jwks?: JwksOptions | null
}

export const AUTH_OFF: AuthOptions = { enabled: false, apiKeys: [], jwtSecret: null, jwtRole: 'public', jwks: null }

/** Who is calling. `name` is the API key's name or the JWT's `sub`, never key material. */
export interface Principal {
  role: Role
  kind: 'anonymous' | 'apiKey' | 'jwt' | 'open'
  name: string | null
  /** Credentials were sent but refused: why (a caller needing more than `public` gets 401). */
  invalid: CairnError | null
  /** When the credential stops being valid (a JWT's `exp`, Unix seconds): a WebSocket closes then. */
  expiresAt?: number
}

/** The credential headers: `Authorization: Bearer <jwt or key>` or `x-api-key: <key>`. */
export interface CredentialHeaders {
  authorization?: string | undefined
  'x-api-key'?: string | string[] | undefined
}

/**
 * Turns request headers into a {@link Principal}: an API key, an HS256 JWT (the node's secret) or
 * an RS256/ES256 JWT (the provider's JWKS), told apart by the JWT header's `alg`.
 */
export class Authenticator {
  constructor(
    readonly opts: AuthOptions,
    private readonly modules: { jwks: JwksVerifier | null } = { jwks: null },
  ) {}

  async authenticate(headers: CredentialHeaders, nowSeconds = Math.floor(Date.now() / 1000)): Promise<Principal> {
    if (!this.opts.enabled) return { role: 'admin', kind: 'open', name: null, invalid: null }
    const xKey = Array.isArray(headers['x-api-key']) ? headers['x-api-key'][0] : headers['x-api-key']
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1]
    if (xKey) return this.byKey(xKey)
    if (bearer) {
      if (bearer.split('.').length === 3) return this.byJwt(bearer, nowSeconds)
      return this.byKey(bearer)
    }
    if (headers.authorization) return anonymous(invalid('unsupported Authorization scheme (use Bearer)'))
    return anonymous(null)
  }

  private byKey(key: string): Principal {
    const entry = findApiKey(this.opts.apiKeys, key)
    if (!entry) return anonymous(invalid('unknown API key'))
    return { role: entry.role, kind: 'apiKey', name: entry.name, invalid: null }
  }

  private async byJwt(token: string, now: number): Promise<Principal> {
    const alg = jwtAlg(token)
    if (alg === undefined) return anonymous(invalid('malformed JWT (its header does not decode)'))
    if (alg !== 'HS256') {
      const jwks = this.modules.jwks
      if (!jwks) return anonymous(invalid(`JWTs signed with ${alg} need auth.jwksUrl`))
      try {
        const { sub, role, exp } = await jwks.verify(token)
        return { role, kind: 'jwt', name: sub, invalid: null, ...(exp !== undefined ? { expiresAt: exp } : {}) }
      } catch (err) {
        return anonymous(err as CairnError)
      }
    }
    if (!this.opts.jwtSecret) return anonymous(invalid('HS256 JWTs are not accepted (no auth.jwtSecret)'))
    try {
      const claims = verifyJwt(token, this.opts.jwtSecret, now)
      return {
        role: claims.role ?? this.opts.jwtRole,
        kind: 'jwt',
        name: claims.sub ?? null,
        invalid: null,
        ...(claims.exp !== undefined ? { expiresAt: claims.exp } : {}),
      }
    } catch (err) {
      return anonymous(err as CairnError)
    }
  }
}

/** The `alg` of a JWT's header, or undefined when it does not decode. */
function jwtAlg(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: unknown }
    return typeof header.alg === 'string' ? header.alg : undefined
  } catch {
    return undefined
  }
}

function anonymous(err: CairnError | null): Principal {
  return { role: 'public', kind: 'anonymous', name: null, invalid: err }
}

function invalid(why: string): CairnError {
  return new CairnError(RpcErrorCode.AUTH_INVALID, `invalid credentials: ${why}`, {
    fault: 'caller',
    hint: 'send a valid API key (x-api-key) or a JWT (Authorization: Bearer)',
  })
}
