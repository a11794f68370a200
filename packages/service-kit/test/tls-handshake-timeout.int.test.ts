// A TLS port's handshake timeout closes the connection. A bare `tls.Server` on Node 20 only
// reports a handshake that did not finish in time (`tlsClientError`) and leaves its socket open:
// the remote signer's port held descriptors that way (fixed there). The HTTP edge's server is an
// `https.Server`, which closes it: this holds it so, for a client that sent a few bytes of a
// ClientHello and went quiet (the first-byte timeout does not cover it).
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createHttpServer } from '../src/edge/http-server.ts'

const FIX = join(import.meta.dirname, 'fixtures')
const server = createHttpServer(
  { cert: readFileSync(join(FIX, 'tls-a.crt')), key: readFileSync(join(FIX, 'tls-a.key')) },
  300,
  (_req, res) => res.end('ok'),
)
afterAll(() => new Promise<void>((r) => server.close(() => r())))

describe('the TLS handshake timeout', () => {
  it('closes a connection that sent part of a ClientHello and went quiet', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    const { port } = server.address() as { port: number }
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((r) => socket.once('connect', () => r()))
    // A TLS record header (handshake, TLS 1.0) and nothing more.
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]))
    const closedAfterMs = await new Promise<number>((resolve) => {
      const t0 = Date.now()
      socket.once('close', () => resolve(Date.now() - t0))
      socket.on('error', () => {})
    })
    // Closed by the server at the timeout (300 ms), not held until the client gives up.
    expect(closedAfterMs).toBeLessThan(10_000)
  }, 20_000)
})
