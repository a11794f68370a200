import helmet from '@fastify/helmet'
import type { FastifyInstance } from 'fastify'

/**
 * Security headers through `@fastify/helmet`, tuned for a JSON API: a CSP that allows nothing
 * (`default-src 'none'; frame-ancestors 'none'` — the port serves no page, so nothing breaks),
 * `nosniff`, no framing, no referrer, and HSTS only when the port speaks TLS. The
 * cross-origin resource policy is `cross-origin` so that origins allowed by CORS can read answers.
 */
export async function registerSecurityHeaders(app: FastifyInstance, opts: { tls: boolean }): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    hsts: opts.tls ? { maxAge: 15_552_000, includeSubDomains: true } : false,
  })
}
