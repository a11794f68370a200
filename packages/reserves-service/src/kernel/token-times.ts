// How long a bearer token of the reserves service may live, and how far ahead of this clock it may
// have been issued. A signature proves who minted a token, not that its times are sane: a token
// expiring in the year 3000 is a credential that can never be taken back short of rotating the
// secret, and one issued a year ahead was minted on a wrong clock (or to outlive a rotation).
// Identity providers bound both: access tokens live minutes to a day (Okta at most 24 h, Auth0's
// default 24 h), and `iat`/`nbf` are accepted only within a small clock skew (RFC 7519 §4.1.4–6).

import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'

export interface TokenTimeLimits {
  /** The longest a token may be valid: `exp − iat` (`exp − now` without `iat`). Seconds. */
  maxLifetimeSeconds: number
  /** How far `iat` and `nbf` may lie ahead of this clock (the two clocks' disagreement). Seconds. */
  clockSkewSeconds: number
}

/** A day (Okta's ceiling for access tokens, Auth0's default); a minute of skew. */
export const DEFAULT_TOKEN_TIME_LIMITS: TokenTimeLimits = { maxLifetimeSeconds: 86_400, clockSkewSeconds: 60 }

/** The payload of a JWT whose signature was verified (its parts are canonical base64url). */
function payloadOf(token: string): Record<string, unknown> {
  const part = token.split('.')[1] ?? ''
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

const refused = (message: string, hint: string) =>
  new CairnError(ReservesErrorCode.UNAUTHENTICATED, message, { fault: 'caller', hint })
const CLOCK_HINT = "check the token minter's clock (NTP), or raise --jwt-clock-skew"

const when = (seconds: number) => {
  const ms = seconds * 1000
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${seconds}`
}

/**
 * Refuses a verified JWT whose times are out of bounds (RESERVES_UNAUTHENTICATED, 401, saying
 * which): `iat` or `nbf` beyond the clock skew ahead of `nowMs`, or a lifetime above the maximum.
 * `exp` itself (present, not passed) was checked with the signature.
 */
export function checkTokenTimes(token: string, nowMs: number, limits: TokenTimeLimits): void {
  const claims = payloadOf(token)
  const now = Math.floor(nowMs / 1000)
  const { iat, nbf, exp } = claims
  if (iat !== undefined && typeof iat !== 'number')
    throw refused('JWT claim iat must be a number (Unix seconds)', 'mint the token with cairn reserves token')
  if (typeof iat === 'number' && iat > now + limits.clockSkewSeconds)
    throw refused(
      `JWT was issued in the future (iat ${when(iat)}, more than ${limits.clockSkewSeconds} s ahead of this server's clock)`,
      CLOCK_HINT,
    )
  if (typeof nbf === 'number' && nbf > now + limits.clockSkewSeconds)
    throw refused(`JWT is not valid yet (nbf ${when(nbf)})`, CLOCK_HINT)
  if (typeof exp !== 'number') return
  const from = typeof iat === 'number' ? Math.min(iat, now) : now
  const lifetime = exp - from
  if (lifetime > limits.maxLifetimeSeconds)
    throw refused(
      `JWT lifetime is too long (exp ${when(exp)}: ${lifetime} s, this service accepts at most ${limits.maxLifetimeSeconds} s)`,
      'mint a shorter-lived token (cairn reserves token --ttl <seconds>), or raise --jwt-max-lifetime',
    )
}
