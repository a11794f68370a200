// What the service's routes share at the HTTP level: a schema check that answers 400 with every
// problem, and JSON answers with a strong ETag (304 to a matching If-None-Match).
import { ReservesErrorCode } from '@cairn/reserves'
import { CairnError } from '@cairn/utils'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { etagMatches } from './compress.ts'
import { etagOf } from './proof-cache.ts'

/** `v` checked against `schema`; a 400 (BAD_OPTIONS) listing every problem when it does not fit. */
export function parse<T>(schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v)
  if (!r.success)
    throw new CairnError(
      ReservesErrorCode.BAD_OPTIONS,
      `bad request: ${z.prettifyError(r.error).replace(/\n/g, '; ')}`,
      {
        fault: 'caller',
      },
    )
  return r.data
}

/** Sends a JSON body with a strong ETag and `cacheControl`; answers 304 to a matching If-None-Match. */
export function sendTagged(
  req: FastifyRequest,
  reply: FastifyReply,
  body: string,
  cacheControl: string,
  etag = etagOf(body),
  type = 'application/json',
) {
  reply.header('etag', etag).header('cache-control', cacheControl)
  if (etagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send()
  return reply.type(type).send(body)
}
