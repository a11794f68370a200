import {
  type ApiKeyEntry,
  type CredentialHeaders,
  type JwksVerifier,
  Authenticator as KitAuthenticator,
} from '@cairn/service-kit'
import { CairnError } from '@cairn/utils'
import { RpcErrorCode } from '../errors.ts'
import { type Role, RPC_ROLES } from './roles.ts'

/** How far an HS256 token's `iat` may be from now, in seconds (geth's authenticated port: 60). */
export const JWT_IAT_LEEWAY_SECONDS = 60

/** An external OAuth2/OIDC provider whose RS256/ES256 JWTs the RPC accepts. */
export interface JwksOptions {
  /** The provider's JWKS (e.g. `https://idp.example.com/.well-known/jwks.json`). */
  url: string
  /** Required `iss`, if set. */
  issuer?: string | undefined
  /** Required `aud`, if set. */
  audience?: string | undefined
  /** Claim holding the role(s): a dotted path (`realm_access.roles`), a string or an array of strings. */
  roleClaim: string
  /** Claim value → role; a value that is a role name maps to itself; anything else is ignored. */
  roleMap: Readonly<Record<string, Role>>
}

export interface AuthOptions {
  /** Off: every caller is `admin` (the dev profile on loopback). */
  enabled: boolean
  apiKeys: readonly ApiKeyEntry<Role>[]
  /** The HS256 secret (32 bytes, as geth's jwtsecret file), or null for no HS256 JWTs. */
  jwtSecret: Uint8Array | null
  /**
   * Role of an HS256 JWT without a `role` claim (geth's engine-API tokens carry only `iat`), or
   * null: such a token is refused, as a JWKS token whose role claim maps to no role always is.
   */
  jwtRole: Role | null
  /** An OIDC provider's JWKS for RS256/ES256 JWTs, or null. */
  jwks?: JwksOptions | null
}

export const AUTH_OFF: AuthOptions = { enabled: false, apiKeys: [], jwtSecret: null, jwtRole: null, jwks: null }

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

/**
 * The RPC's view of service-kit's authenticator: an API key, an HS256 JWT (the node's secret;
 * `iat` within ±60 s as geth's authenticated port) or an RS256/ES256 JWT (the provider's JWKS),
 * with the RPC's ordered role table. A token that names no role is refused (unless `jwtRole`
 * gives role-less HS256 tokens one): a credential that silently meant `public` hid a missing or
 * misspelt claim until a call was refused 403. Refused credentials do not fail the request here:
 * the caller is anonymous (`public`) with the reason kept, and the gate answers 401 with it only
 * when a method needs more than `public`. A JWKS that cannot be fetched refuses its tokens the same way.
 */
export class Authenticator {
  private readonly kit: KitAuthenticator<Role>

  constructor(
    readonly opts: AuthOptions,
    modules: { jwks: JwksVerifier | null } = { jwks: null },
  ) {
    const jwks = opts.jwks && modules.jwks ? opts.jwks : null
    this.kit = new KitAuthenticator(RPC_ROLES, {
      apiKeys: opts.apiKeys,
      hs256: opts.jwtSecret
        ? { secret: opts.jwtSecret, iatLeewaySeconds: JWT_IAT_LEEWAY_SECONDS, defaultRole: opts.jwtRole }
        : null,
      jwks:
        jwks && modules.jwks
          ? { verifier: modules.jwks, roleClaim: jwks.roleClaim, roleMap: jwks.roleMap, defaultRole: null }
          : null,
    })
  }

  async authenticate(headers: CredentialHeaders, nowSeconds = Math.floor(Date.now() / 1000)): Promise<Principal> {
    if (!this.opts.enabled) return { role: 'admin', kind: 'open', name: null, invalid: null }
    try {
      const c = await this.kit.authenticate(headers, nowSeconds * 1000)
      if (!c) return anonymous(null)
      return {
        role: c.role,
        kind: c.via,
        name: c.name,
        invalid: null,
        ...(c.expiresAt !== undefined ? { expiresAt: c.expiresAt } : {}),
      }
    } catch (err) {
      return anonymous(invalid(err))
    }
  }
}

function anonymous(err: CairnError | null): Principal {
  return { role: 'public', kind: 'anonymous', name: null, invalid: err }
}

/** Any refusal (service-kit's SERVICE_AUTH_INVALID, a JWKS outage) as the RPC's AUTH_INVALID. */
function invalid(err: unknown): CairnError {
  const why = err instanceof Error ? err.message : String(err)
  return new CairnError(RpcErrorCode.AUTH_INVALID, `invalid credentials: ${why}`, {
    fault: 'caller',
    cause: err,
    hint: 'send a valid API key (x-api-key), a fresh HS256 JWT signed with the node secret, or a JWT from the configured identity provider (Authorization: Bearer)',
  })
}
