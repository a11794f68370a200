import helmet from 'helmet'

/** The helmet options: what the headers say (see {@link securityHeaders}). */
function helmetOptions(tls: boolean): Parameters<typeof helmet>[0] {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    hsts: tls ? { maxAge: 15_552_000, includeSubDomains: true } : false,
  }
}

/**
 * The security headers of every response, from `helmet` (the maintained set Express and Fastify
 * apps use), tuned for a JSON API: a CSP that allows nothing (`default-src 'none';
 * frame-ancestors 'none'` — the port serves no page, so nothing breaks), `nosniff`, no framing, no
 * referrer, and HSTS only when the port speaks TLS. The cross-origin resource policy is
 * `cross-origin` so that origins allowed by CORS can read answers.
 *
 * Computed once: helmet's middleware is run against a recording response at start-up and the
 * server sets the recorded headers on each reply. (`@fastify/helmet` re-creates helmet's
 * middleware and re-parses the CSP directives on every request: ~9% of a cheap read's CPU.) The
 * headers do not depend on the request.
 */
export function securityHeaders(opts: { tls: boolean }): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  let failed: unknown
  helmet(helmetOptions(opts.tls))({} as never, res as never, (err?: unknown) => {
    failed = err
  })
  if (failed) throw failed
  return Object.freeze(headers)
}
