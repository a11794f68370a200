import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import { originAllowed } from './origins.ts'

/**
 * CORS through `@fastify/cors`, asking `origins()` on every request so that a reload takes effect
 * at once. Allowed origins get `Access-Control-Allow-Origin: <origin>` (never credentials mode:
 * keys travel in headers the page sets), the request headers they ask for (Authorization,
 * x-api-key…) and `x-request-id`/`retry-after` exposed; others get no CORS headers at all.
 */
export async function registerCors(
  app: FastifyInstance,
  origins: () => readonly string[],
  methods: readonly string[] = ['GET', 'POST', 'OPTIONS'],
): Promise<void> {
  await app.register(cors, {
    origin: (origin, cb) => cb(null, origin !== undefined && originAllowed(origin, origins())),
    methods: [...methods],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  })
}
