// Issue 48, item 3 (P2P): libp2p's pending inbound handshakes (10) were shared by every address, so a
// few TCP connections that sent nothing kept new peers out for 7–16 s. Pending handshakes are now
// limited per address (`p2p.maxPendingPerIp`) and a handshake that does not finish within
// `p2p.handshakeTimeoutMs` is dropped.
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { metricValue, type TestNode, testNode, waitFor } from './helpers.ts'

const nodes: TestNode[] = []
const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})

async function node(o: Parameters<typeof testNode>[0] = {}): Promise<TestNode> {
  const n = await testNode(o)
  nodes.push(n)
  return n
}

/** Opens `n` TCP connections from `from` that send nothing; each `closed` flag turns true when the node closes it. */
async function silent(port: number, from: string, n: number): Promise<{ closed: boolean }[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<{ closed: boolean }>((resolve, reject) => {
          const held = { closed: false }
          const socket = connect({ host: '127.0.0.1', port, localAddress: from }, () => resolve(held))
          sockets.push(socket)
          socket.on('error', () => {})
          socket.once('end', () => socket.end())
          socket.once('close', () => {
            held.closed = true
            reject(new Error('closed before connecting'))
          })
        }),
    ),
  )
}

describe('silent inbound connections', () => {
  it('twenty from one address do not keep a peer from another out: it connects and exchanges status within seconds; they are dropped after the handshake timeout', async () => {
    const HANDSHAKE_MS = 2000
    const victim = await node({
      p2p: {
        // Loopback is not exempt here (it is by default), and one address may hold many peers:
        // only the pending handshakes' limit stands between the flood and the port.
        limitsExempt: [],
        maxPeersPerIp: 64,
        inboundRatePerIp: 1000,
        maxPendingPerIp: 2,
        handshakeTimeoutMs: HANDSHAKE_MS,
      },
    })
    const addr = victim.net.nodeInfo().listenAddrs[0] as string
    const port = Number(/\/tcp\/(\d+)/.exec(addr)?.[1])
    const flood = await silent(port, '127.0.0.2', 20)

    const peer = await node()
    const start = Date.now()
    expect(await peer.net.addPeer(addr)).toBe(true)
    await waitFor(() => victim.net.peerCount() === 1 && peer.net.peerCount() === 1, 'the status exchange', 4_000)
    expect(Date.now() - start).toBeLessThan(4_000)
    expect(await metricValue(victim.registry, 'cairn_p2p_refused_connections_total', { reason: 'pending' })).toBe(18)

    // The two let into their handshake are dropped when it times out, long before libp2p's 10 s.
    await waitFor(() => flood.every((s) => s.closed), 'the silent connections dropped', HANDSHAKE_MS + 3_000)
  })
})
