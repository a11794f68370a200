// One IP once held 20,400 slow-body connections and exhausted the node's file descriptors: every
// profile now bounds how long a request may take to arrive and how many connections one IP holds.
import { connect } from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_RPC_SERVER_OPTIONS } from '../src/index.ts'
import { stubServer } from './edge-server.ts'

const servers: { close(): Promise<void> }[] = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

/** Sends headers and part of a body, then nothing; resolves with what the server wrote before closing. */
function slowBody(url: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let got = ''
    socket.on('data', (d) => {
      got += d.toString()
    })
    socket.on('close', () => resolve(got))
    socket.on('error', reject)
    socket.write(
      `POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":`,
    )
  })
}

describe('slow requests', () => {
  it('answers 408 and closes a connection whose body does not arrive in requestTimeoutMs', async () => {
    const s = await stubServer({ requestTimeoutMs: 400 })
    servers.push(s.server)
    expect(await slowBody(s.url)).toMatch(/^HTTP\/1\.1 408/)
  })

  it('has a request timeout and a per-IP connection cap by default', () => {
    expect(DEFAULT_RPC_SERVER_OPTIONS.requestTimeoutMs).toBe(30_000)
    expect(DEFAULT_RPC_SERVER_OPTIONS.maxConnectionsPerIp).toBe(512)
  })
})
