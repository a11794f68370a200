// A real HTTP webhook receiver for the tests (node:http on port 0): records every request with its
// headers and raw body, and answers as the test says (status, delay) per path.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
  /** Date.now() when the request's body had arrived. */
  at: number
}

/** How to answer the `n`-th request (1-based) to `path`. */
export type Behaviour = (path: string, n: number) => { status: number; delayMs?: number }

export interface Receiver {
  url: string
  received: Received[]
  /** Requests whose answer has not been sent yet. */
  inFlight(): number
  on(path: string): Received[]
  setBehaviour(b: Behaviour): void
  close(): Promise<void>
}

export async function startReceiver(initial: Behaviour = () => ({ status: 200 })): Promise<Receiver> {
  let behave = initial
  const received: Received[] = []
  const counts = new Map<string, number>()
  let open = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() })
      const n = (counts.get(path) ?? 0) + 1
      counts.set(path, n)
      const { status, delayMs = 0 } = behave(path, n)
      open++
      setTimeout(() => {
        open--
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope')
      }, delayMs)
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    inFlight: () => open,
    on: (path) => received.filter((r) => r.path === path),
    setBehaviour: (b) => {
      behave = b
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
