import '../src/polyfill.ts'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { metricValue, type TestNode, testNode, waitFor } from './helpers.ts'

const nodes: TestNode[] = []
const hosts: Libp2p[] = []
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()))
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})

async function node(o: Parameters<typeof testNode>[0] = {}): Promise<TestNode> {
  const n = await testNode(o)
  nodes.push(n)
  return n
}

/** A bare libp2p host (TCP, Noise, Yamux; no listener) whose connections leave from `from` (any 127/8 address is loopback on Linux). */
async function peerFrom(from: string): Promise<Libp2p> {
  const h = await createLibp2p({
    transports: [tcp({ dialOpts: { localAddress: from } } as never)],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
  })
  hosts.push(h)
  return h
}

const addrOf = (n: TestNode) => multiaddr(n.net.nodeInfo().listenAddrs[0] as string)
/** The victim's inbound connections from `ip`. */
const inboundFrom = (n: TestNode, ip: string) =>
  n.net.peers().filter((p) => p.inbound && p.remoteAddress.startsWith(`/ip4/${ip}/`)).length
const refused = (n: TestNode, reason: string) =>
  metricValue(n.registry, 'cairn_p2p_refused_connections_total', { reason })

/** Dials and says whether the connection was let in. */
async function tryDial(h: Libp2p, n: TestNode): Promise<boolean> {
  try {
    await h.dial(addrOf(n))
    return true
  } catch {
    return false
  }
}

describe('inbound limits per IP on loopback', () => {
  it('refuses connections from one IP past --p2p.max-peers-per-ip and counts them, while another IP still connects; a closed one frees its slot', async () => {
    const victim = await node({ p2p: { maxPeersPerIp: 2, inboundRatePerIp: 1000, limitsExempt: [] } })
    const [a, b, c] = [await peerFrom('127.0.0.1'), await peerFrom('127.0.0.1'), await peerFrom('127.0.0.1')]
    expect(await tryDial(a as Libp2p, victim)).toBe(true)
    expect(await tryDial(b as Libp2p, victim)).toBe(true)
    await waitFor(() => inboundFrom(victim, '127.0.0.1') === 2, 'two peers in from 127.0.0.1')
    expect(await tryDial(c as Libp2p, victim)).toBe(false)
    expect(await refused(victim, 'per_ip')).toBeGreaterThanOrEqual(1)
    expect(inboundFrom(victim, '127.0.0.1')).toBe(2)
    // Another address is counted apart.
    const other = await peerFrom('127.0.0.2')
    expect(await tryDial(other, victim)).toBe(true)
    await waitFor(() => inboundFrom(victim, '127.0.0.2') === 1, 'the peer from 127.0.0.2 in')
    expect(await refused(victim, 'rate')).toBe(0)
    // One of the two leaves: its slot is free again once its connection has closed on the victim's side.
    await (a as Libp2p).stop()
    await waitFor(() => inboundFrom(victim, '127.0.0.1') === 1, 'the first peer gone')
    await waitFor(() => tryDial(c as Libp2p, victim), 'the third peer let in')
    await waitFor(() => inboundFrom(victim, '127.0.0.1') === 2, 'two peers in from 127.0.0.1 again')
  })

  it('refuses connections from one IP past --p2p.inbound-rate-per-ip within a second (frozen clock), counted as rate; another IP is not affected', async () => {
    const t = 1_000_000
    const victim = await node({
      p2p: { maxPeersPerIp: 100, inboundRatePerIp: 2, limitsExempt: [] },
      netNow: () => t,
    })
    const peers = [await peerFrom('127.0.0.1'), await peerFrom('127.0.0.1'), await peerFrom('127.0.0.1')]
    const results = []
    for (const p of peers) results.push(await tryDial(p, victim))
    expect(results).toEqual([true, true, false])
    expect(await refused(victim, 'rate')).toBe(1)
    expect(await refused(victim, 'per_ip')).toBe(0)
    expect(await tryDial(await peerFrom('127.0.0.2'), victim)).toBe(true)
  })

  it('defaults: loopback is exempt, so many nodes on one machine connect at once (libp2p alone refused more than 5 a second from one host)', async () => {
    const victim = await node()
    const peers = await Promise.all(Array.from({ length: 9 }, () => peerFrom('127.0.0.1')))
    const results = await Promise.all(peers.map((p) => tryDial(p, victim)))
    expect(results.every(Boolean)).toBe(true)
    await waitFor(() => inboundFrom(victim, '127.0.0.1') === 9, 'nine peers in')
    expect(await refused(victim, 'per_ip')).toBe(0)
    expect(await refused(victim, 'rate')).toBe(0)
  })
})
