// Nodes that crash (their connections reset, no goodbye) and come back with the same identity
// (the key in their datadir): a node restarted while its bootnode is still down dials it again
// when it is back, and the transactions it was sent meanwhile reach the bootnode.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../chain/test/helpers.ts'
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

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-p2p-restart-'))
  dirs.push(d)
  return d
}

/** A crash: every connection reset at once (no stream closes, no goodbye), then the node is gone. */
async function crash(n: TestNode): Promise<void> {
  const host = (n.net as unknown as { host: Host }).host
  for (const c of host.getConnections()) c.abort(new Error('crash'))
  nodes.delete(n)
  await n.stop()
}

const addrOf = (n: TestNode) => n.net.nodeInfo().listenAddrs[0] as string
const portOf = (n: TestNode) => Number(/\/tcp\/(\d+)\//.exec(addrOf(n))?.[1])

describe('p2p nodes that crash and restart with the same identity', () => {
  it('a follower restarted while its bootnode is down reconnects when the bootnode is back; its transactions reach it and gossip state is rebuilt on both sides', async () => {
    const producerDir = tempDir()
    const followerDir = tempDir()
    let producer = await node({ dir: producerDir })
    const port = portOf(producer)
    const bootnode = addrOf(producer)
    let follower = await node({ dir: followerDir, p2p: { bootnodes: [bootnode] } })
    const followerId = follower.net.peerId
    await waitFor(() => producer.net.peerCount() === 1 && follower.net.peerCount() === 1, 'connected')
    const tx0 = transfer(producer.chain.common, KEYS[0] as Uint8Array, 0n, ADDRS[1] as `0x${string}`, 1n)
    await follower.pool.add(tx0, { source: 'local' })
    await waitFor(() => producer.pool.get(tx0.hash()) !== undefined, 'first transaction relayed')

    // Both crash; the follower comes back first, with its datadir (same peer id): its dial of the
    // bootnode fails (nothing listens), and a transaction is sent to it while it has no peer.
    await crash(follower)
    await crash(producer)
    follower = await node({ dir: followerDir, p2p: { bootnodes: [bootnode] } })
    expect(follower.net.peerId).toBe(followerId)
    const tx1 = transfer(follower.chain.common, KEYS[1] as Uint8Array, 0n, ADDRS[0] as `0x${string}`, 1n)
    await follower.pool.add(tx1, { source: 'local' })
    expect(follower.net.peerCount()).toBe(0)

    // The producer is back on its address with its identity: the follower dials it again by itself.
    producer = await node({ dir: producerDir, p2p: { port } })
    expect(addrOf(producer)).toBe(bootnode)
    await waitFor(() => producer.net.peerCount() === 1 && follower.net.peerCount() === 1, 'reconnected')
    await waitFor(
      () => producer.pool.get(tx1.hash()) !== undefined,
      'transaction sent while apart reaches the producer',
    )
    // Each side knows the other subscribed to the topics again (its announcements find a peer).
    const { txs, blocks } = producer.net.topics
    await waitFor(
      () =>
        producer.net.gossipSubscribers(txs).includes(followerId) &&
        follower.net.gossipSubscribers(txs).includes(producer.net.peerId) &&
        follower.net.gossipSubscribers(blocks).includes(producer.net.peerId),
      'subscriptions known on both sides',
    )

    // The follower crashes again and restarts at once on the same identity, the producer up this
    // time (its old connection reset, a new one from the same peer id): a new transaction to the
    // follower still reaches the producer, and a block the producer seals reaches the follower.
    await crash(follower)
    follower = await node({ dir: followerDir, p2p: { bootnodes: [bootnode] } })
    await waitFor(() => producer.net.peerCount() === 1 && follower.net.peerCount() === 1, 'reconnected again')
    const tx2 = transfer(follower.chain.common, KEYS[2] as Uint8Array, 0n, ADDRS[0] as `0x${string}`, 1n)
    await follower.pool.add(tx2, { source: 'local' })
    await waitFor(() => producer.pool.get(tx2.hash()) !== undefined, 'transaction after a restart reaches the producer')
    await producer.engine.seal()
    await waitFor(
      () => bytesToHex(follower.chain.head.hash()) === bytesToHex(producer.chain.head.hash()),
      'block gossiped',
    )
  })
})
