// Bootnodes named by DNS, as a Kubernetes headless Service gives them
// (`/dns4/<pod>.<service>/tcp/<port>/p2p/<id>`): the TCP transport dials the name (resolved by the
// OS at each dial, so a pod that came back on another IP is found), and the redialer keeps the
// name, not an address it once resolved to: a bootnode that crashed and came back is dialled again
// through its name.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Host } from '../src/host.ts'
import { type TestNode, testNode, waitFor } from './helpers.ts'

const nodes = new Set<TestNode>()
const dirs: string[] = []
afterEach(async () => {
  await Promise.all([...nodes].map((n) => n.stop()))
  nodes.clear()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

async function node(o: Parameters<typeof testNode>[0] = {}): Promise<TestNode> {
  const n = await testNode(o)
  nodes.add(n)
  return n
}

async function crash(n: TestNode): Promise<void> {
  const host = (n.net as unknown as { host: Host }).host
  for (const c of host.getConnections()) c.abort(new Error('crash'))
  nodes.delete(n)
  await n.stop()
}

describe('DNS multiaddrs as bootnodes', () => {
  it('/dns4/localhost/tcp/<port>/p2p/<id> connects, and is dialled again by name after the bootnode restarts', async () => {
    const producerDir = mkdtempSync(join(tmpdir(), 'cairn-p2p-dns-'))
    dirs.push(producerDir)
    let producer = await node({ dir: producerDir })
    const listen = producer.net.nodeInfo().listenAddrs[0] as string
    const port = Number(/\/tcp\/(\d+)\//.exec(listen)?.[1])
    const bootnode = `/dns4/localhost/tcp/${port}/p2p/${producer.net.peerId}`
    const follower = await node({ p2p: { bootnodes: [bootnode] } })
    await waitFor(() => producer.net.peerCount() === 1 && follower.net.peerCount() === 1, 'connected by name')

    await crash(producer)
    await waitFor(() => follower.net.peerCount() === 0, 'the connection gone')
    producer = await node({ dir: producerDir, p2p: { port } })
    await waitFor(
      () => producer.net.peerCount() === 1 && follower.net.peerCount() === 1,
      'dialled again through the name',
    )
    // the block the producer seals reaches the follower over that connection
    await producer.engine.seal()
    await waitFor(() => follower.chain.head.header.number === 1n, 'block gossiped')
    expect(follower.net.peers().map((p) => p.id)).toContain(producer.net.peerId)
  })
})
