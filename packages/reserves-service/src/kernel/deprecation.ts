import type { FastifyInstance } from 'fastify'

/**
 * A route on its way out: answered with `Deprecation` (RFC 9745: since when, `@<unix seconds>`),
 * `Sunset` (RFC 8594: the HTTP date after which it may be gone) and, with `link`, a `Link` to what
 * replaces it. The OpenAPI document marks it `deprecated: true`. Policy: docs/reserves/sdk.md.
 */
export interface RouteDeprecation {
  since: Date
  sunset: Date
  /** Where the change is described (the successor route or version). */
  link?: string
}

/**
 * Deprecated routes by `METHOD /fastify/:pattern`. None yet: API v1 is the only version. A route
 * goes here when its replacement ships, with a sunset at least 12 months later.
 */
export const DEPRECATED_ROUTES: Readonly<Record<string, RouteDeprecation>> = {}

/** The response headers announcing `d`. */
export function deprecationHeaders(d: RouteDeprecation): Record<string, string> {
  return {
    deprecation: `@${Math.floor(d.since.getTime() / 1000)}`,
    sunset: d.sunset.toUTCString(),
    ...(d.link ? { link: `<${d.link}>; rel="deprecation"; type="text/html"` } : {}),
  }
}

/** The table's key for an OpenAPI path (`/v1/snapshots/{id}` → `GET /v1/snapshots/:id`). */
export function deprecationKey(method: string, openApiPath: string): string {
  return `${method.toUpperCase()} ${openApiPath.replace(/\{([^}]+)\}/g, ':$1')}`
}

/** Adds the deprecation headers to every answer (errors included) of the routes in `table`. */
export function registerDeprecations(app: FastifyInstance, table: Readonly<Record<string, RouteDeprecation>>): void {
  if (Object.keys(table).length === 0) return
  app.addHook('onSend', async (req, reply, payload) => {
    const d = table[`${req.method} ${req.routeOptions.url ?? ''}`]
    if (d) reply.headers(deprecationHeaders(d))
    return payload
  })
}
