// The public page at `/` (index.html, page.js) with the verifier bundled for the browser
// (`/verifier.js`, from @cairn/reserves/web), and the OpenAPI document at `/docs`.
import { bundleVerifier, pageAsset } from '@cairn/reserves/web'
import type { FastifyInstance } from 'fastify'
import { sendTagged } from '../../kernel/http.ts'
import { etagOf } from '../../kernel/proof-cache.ts'

export interface PageRouteDeps {
  /** The OpenAPI document, as served. */
  docs: string
}

export async function pageRoutes(app: FastifyInstance, d: PageRouteDeps): Promise<void> {
  app.get('/docs', async (req, reply) => sendTagged(req, reply, d.docs, 'no-cache'))
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(await pageAsset('index.html')))
  app.get('/page.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').send(await pageAsset('page.js')),
  )
  let verifierJs: Promise<string> | null = null
  let verifierTag: string | null = null
  app.get('/verifier.js', async (req, reply) => {
    verifierJs ??= bundleVerifier()
    const js = await verifierJs
    verifierTag ??= etagOf(js)
    return sendTagged(req, reply, js, 'no-cache', verifierTag, 'text/javascript; charset=utf-8')
  })
}
