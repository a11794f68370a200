// Raw TCP connections to an HTTP server for tests that send exact bytes (pipelined requests,
// upgrades): the server's side of each connection, waits on what the server sent, and a bound on
// any wait. Used by the pipelined-upgrade tests of service-kit, rpc, arbitrage and reserves.
import type { Server } from 'node:net'
import { type AddressInfo, connect, type Socket } from 'node:net'

/** Rejects if `p` has not settled after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not after ${ms} ms`)), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

/** A raw connection to a listening server. */
export interface RawConnection {
  client: Socket
  /** The server's side of the connection. */
  serverSide: Socket
  /** Resolves once the server's side is closed. */
  closed: Promise<void>
  /** Resolves once the client's side is closed. */
  ended: Promise<void>
  /** Resolves once the server has sent something that matches. */
  heard(re: RegExp): Promise<string>
  /** What the server has sent so far (latin1). */
  got(): string
}

/**
 * Opens a connection to `server` (listening on loopback) and adds both its ends to `sockets`, for
 * the test's cleanup to destroy first (a leaked one must not hold the server's close()).
 * `allowHalfOpen`: the client's side stays open when the server ends its side.
 */
export async function rawConnection(
  server: Server,
  sockets: Set<Socket>,
  allowHalfOpen = true,
): Promise<RawConnection> {
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
  const { port } = server.address() as AddressInfo
  const client = connect({ port, host: '127.0.0.1', allowHalfOpen })
  client.on('error', () => {})
  let got = ''
  const waiters: (() => void)[] = []
  client.on('data', (d) => {
    got += d.toString('latin1')
    for (const w of waiters.splice(0)) w()
  })
  await new Promise((r) => client.once('connect', r))
  const serverSide = await accepted
  sockets.add(client).add(serverSide)
  const closed = new Promise<void>((resolve) => {
    if (serverSide.destroyed) resolve()
    else serverSide.once('close', () => resolve())
  })
  const ended = new Promise<void>((resolve) => client.once('close', () => resolve()))
  const heard = (re: RegExp): Promise<string> =>
    new Promise((resolve) => {
      const check = () => (re.test(got) ? resolve(got) : waiters.push(check))
      check()
    })
  return { client, serverSide, closed, ended, heard, got: () => got }
}

/** Every status line the server sent, in order. */
export const statuses = (bytes: string): number[] =>
  [...bytes.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
