import helmet from 'helmet'

/** CSP directives as helmet takes them (`{ defaultSrc: ["'none'"] }`). */
export type CspDirectives = Readonly<Record<string, readonly string[]>>

/** The CSP of a JSON API: nothing may load, nothing may frame it. */
export const API_CSP: CspDirectives = { defaultSrc: ["'none'"], frameAncestors: ["'none'"] }

/** CSP directives as helmet's options type them (mutable arrays). */
function directivesOf(csp: CspDirectives): Record<string, string[]> {
  const directives: Record<string, string[]> = {}
  for (const [k, v] of Object.entries(csp)) directives[k] = [...v]
  return directives
}

/** The helmet options: what the headers say (see {@link securityHeaders}). */
function helmetOptions(tls: boolean, csp: CspDirectives): Parameters<typeof helmet>[0] {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: directivesOf(csp) },
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    hsts: tls ? { maxAge: 15_552_000, includeSubDomains: true } : false,
  }
}

/**
 * A JSON API's: only the headers that mean something for a response no browser renders (OWASP's
 * REST Security Cheat Sheet): the deny-all CSP, nosniff, no framing (X-Frame-Options DENY for
 * browsers older than `frame-ancestors`), HSTS over TLS. helmet's others act on documents only —
 * referrer, opener and agent-cluster policies, DNS prefetch, IE8's download option, Flash's
 * cross-domain policies, the XSS auditor — and a cross-origin resource policy of `cross-origin` is
 * what no header means. Every answer of a JSON-RPC port carried ~400 bytes of them, which each
 * client parses: at 60,000 answers a second, ~4 µs of a load generator's CPU each.
 */
function apiHelmetOptions(tls: boolean): Parameters<typeof helmet>[0] {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: directivesOf(API_CSP) },
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    referrerPolicy: false,
    strictTransportSecurity: tls ? { maxAge: 15_552_000, includeSubDomains: true } : false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xFrameOptions: { action: 'deny' },
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  }
}

/**
 * The security headers of every response, from `helmet` (the maintained set Express and Fastify
 * apps use). By default a JSON API's ({@link apiHelmetOptions}): the deny-all CSP ({@link API_CSP}:
 * `default-src 'none'; frame-ancestors 'none'` — a port that serves no page breaks nothing),
 * nosniff, X-Frame-Options DENY, HSTS only when the port speaks TLS. A service serving a page
 * passes its own `csp` and gets helmet's full set: no referrer, the opener and agent-cluster
 * policies, and a cross-origin resource policy of `cross-origin` so that origins allowed by CORS
 * can read answers.
 *
 * Computed once: helmet's middleware is run against a recording response at start-up and the
 * server sets the recorded headers on each reply. (`@fastify/helmet` re-creates helmet's
 * middleware and re-parses the CSP directives on every request: ~9% of a cheap read's CPU.) The
 * headers do not depend on the request.
 */
export function securityHeaders(opts: { tls: boolean; csp?: CspDirectives }): Readonly<Record<string, string>> {
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
  const options = opts.csp === undefined ? apiHelmetOptions(opts.tls) : helmetOptions(opts.tls, opts.csp)
  helmet(options)({} as never, res as never, (err?: unknown) => {
    failed = err
  })
  if (failed) throw failed
  return Object.freeze(headers)
}
