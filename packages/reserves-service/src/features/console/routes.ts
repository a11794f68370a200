// The admin console's routes: the page at /console/ (its HTML, app.js bundled from ui/ on first
// request, app.css) and GET /console/session, which tells a signed-in console who its credential
// belongs to. Everything the console shows comes from the API's own routes, with the operator's
// credential: the API enforces the roles, the console only hides what a role cannot use.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Principal, Role } from '../../kernel/auth.ts'
import { etagMatches } from '../../kernel/compress.ts'
import { etagOf } from '../../kernel/proof-cache.ts'
import { bundleConsole, consoleAsset } from './bundle.ts'

export interface ConsoleRouteDeps {
  /** The service's role guard (onRequest hook: authenticates, checks the role, charges the rate limit). */
  guard: (roles: Role[]) => {
    config: { guarded: boolean }
    onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<void>
  }
  who: (req: FastifyRequest) => Principal
}

/**
 * The console's CSP, stricter than the page's: its own script and stylesheet only (no inline
 * script or style), fetches to the service, no forms posted anywhere, no framing.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

export async function consoleRoutes(app: FastifyInstance, d: ConsoleRouteDeps): Promise<void> {
  const send = (req: FastifyRequest, reply: FastifyReply, body: string, type: string) => {
    const tag = etagOf(body)
    reply.header('content-security-policy', CONSOLE_CSP).header('cache-control', 'no-cache').header('etag', tag)
    if (etagMatches(req.headers['if-none-match'], tag)) return reply.code(304).send()
    return reply.type(type).send(body)
  }
  let js: Promise<string> | null = null

  // relative, so that the console also works below a proxy's path prefix
  app.get('/console', async (_req, reply) => reply.redirect('console/', 302))
  app.get('/console/', async (req, reply) =>
    send(req, reply, await consoleAsset('index.html'), 'text/html; charset=utf-8'),
  )
  app.get('/console/app.css', async (req, reply) =>
    send(req, reply, await consoleAsset('app.css'), 'text/css; charset=utf-8'),
  )
  app.get('/console/app.js', async (req, reply) => {
    js ??= bundleConsole().catch((err: unknown) => {
      js = null
      throw err
    })
    return send(req, reply, await js, 'text/javascript; charset=utf-8')
  })
  app.get('/console/session', d.guard(['admin', 'auditor', 'user']), async (req, reply) => {
    const p = d.who(req)
    reply.header('cache-control', 'no-store')
    return { sub: p.sub, role: p.role, via: p.via }
  })
}
