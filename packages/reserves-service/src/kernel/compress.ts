// HTTP compression where it helps: JSON, JavaScript and HTML bodies of at least `minBytes`
// (the OpenAPI document, leaf pages, audit pages, the verifier bundle), brotli or gzip as the
// client accepts, off the event loop (zlib's thread pool). A compressed answer's strong ETag becomes
// weak (as nginx does): the bytes differ from the identity body the tag was computed on.
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import type { FastifyInstance } from 'fastify'

const br = promisify(brotliCompress)
const gz = promisify(gzip)
const COMPRESSIBLE = /^(application\/(json|javascript)|text\/(html|javascript|css|csv|plain))/

export function registerCompression(app: FastifyInstance, minBytes: number): void {
  if (minBytes <= 0) return
  app.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode === 304 || reply.statusCode === 204 || req.method === 'HEAD') return payload
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload
    if (reply.hasHeader('content-encoding')) return payload
    const type = String(reply.getHeader('content-type') ?? '')
    if (!COMPRESSIBLE.test(type)) return payload
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload
    if (body.length < minBytes) return payload
    reply.header('vary', 'accept-encoding')
    const accepts = String(req.headers['accept-encoding'] ?? '')
    const encoding = /\bbr\b/.test(accepts) ? 'br' : /\bgzip\b/.test(accepts) ? 'gzip' : null
    if (!encoding) return payload
    const out =
      encoding === 'br'
        ? await br(body, {
            params: { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
          })
        : await gz(body, { level: 6 })
    const etag = reply.getHeader('etag')
    if (typeof etag === 'string' && !etag.startsWith('W/')) reply.header('etag', `W/${etag}`)
    reply.header('content-encoding', encoding)
    reply.removeHeader('content-length')
    return out
  })
}

/** Whether an If-None-Match header matches `etag` (weak comparison: W/"x" matches "x"). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false
  const bare = etag.replace(/^W\//, '')
  return header.split(',').some((t) => {
    const v = t.trim()
    return v === '*' || v.replace(/^W\//, '') === bare
  })
}
