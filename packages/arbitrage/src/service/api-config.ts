// The API's security settings as the CLI gathers them (JWKS provider, rate limits), validated with
// one schema before the service starts: a bad URL, a JWKS without issuer/audience or a zero limit is
// refused at startup with the flag to fix, never discovered on the first request.
import { CairnError } from '@cairn/utils'
import { z } from 'zod'
import { ArbErrorCode } from '../errors.ts'
import type { JwksOptions } from './auth.ts'
import { type ApiRateLimitOptions, DEFAULT_API_RATE_LIMIT } from './rate-limit.ts'

const httpUrl = (flag: string) =>
  z
    .string()
    .url(`${flag} must be a URL`)
    .refine((u) => /^https?:\/\//.test(u), `${flag} must be http:// or https://`)

const Jwks = z
  .object({
    url: httpUrl('--jwks-url'),
    issuer: z.string().min(1, '--jwks-url needs --jwt-issuer'),
    audience: z.string().min(1, '--jwks-url needs --jwt-audience'),
    roleClaim: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.:/-]{0,127}$/, '--jwt-role-claim must be a claim name')
      .default('role'),
    clockToleranceSeconds: z.number().int().min(0).max(600).default(30),
    timeoutMs: z.number().int().min(100).max(60_000).default(5000),
  })
  .strict()

const RateLimit = z
  .object({
    enabled: z.boolean().default(DEFAULT_API_RATE_LIMIT.enabled),
    windowMs: z.number().int().min(1000, '--rate-limit.window-ms must be ≥ 1000').max(86_400_000).default(60_000),
    perIp: z.number().int().min(1, '--rate-limit.per-ip must be ≥ 1').default(DEFAULT_API_RATE_LIMIT.perIp),
    perPrincipal: z
      .number()
      .int()
      .min(1, '--rate-limit.per-principal must be ≥ 1')
      .default(DEFAULT_API_RATE_LIMIT.perPrincipal),
    onStoreError: z.enum(['open', 'closed']).default('open'),
    redisUrl: z
      .string()
      .refine((u) => /^rediss?:\/\/[^\s]+$/.test(u), '--rate-limit.redis-url must be redis:// or rediss://')
      .nullable()
      .default(null),
  })
  .strict()

export const ApiSecuritySchema = z
  .object({
    jwks: Jwks.nullable().default(null),
    rateLimit: RateLimit.default({
      enabled: DEFAULT_API_RATE_LIMIT.enabled,
      windowMs: DEFAULT_API_RATE_LIMIT.windowMs,
      perIp: DEFAULT_API_RATE_LIMIT.perIp,
      perPrincipal: DEFAULT_API_RATE_LIMIT.perPrincipal,
      onStoreError: DEFAULT_API_RATE_LIMIT.onStoreError,
      redisUrl: null,
    }),
  })
  .strict()

export interface ApiSecurity {
  jwks: Required<JwksOptions> | null
  rateLimit: ApiRateLimitOptions & { redisUrl: string | null }
}

/** Validates the API security settings; a CONFIG error (caller) naming every problem otherwise. */
export function parseApiSecurity(raw: unknown): ApiSecurity {
  const r = ApiSecuritySchema.safeParse(raw)
  if (!r.success)
    throw new CairnError(
      ArbErrorCode.CONFIG,
      `bad API security options: ${r.error.issues.map((i) => i.message).join('; ')}`,
      { fault: 'caller' },
    )
  return r.data
}
