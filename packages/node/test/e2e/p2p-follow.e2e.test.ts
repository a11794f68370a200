import { afterAll, describe, expect, it } from 'vitest'
import { type NodeHandle, rpcRequest, startNode } from './harness.ts'

// Real `cairn start` processes on loopback: one dev producer and two followers (the second
// bootstraps from the first follower), converging on the same head hash while transactions
// are sent to a follower.
const P2P = ['--p2p.enabled', '--p2p.port', '0', '--p2p.addr', '127.0.0.1']
const DEV0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const DEV1 = '0x70997970C51812dc3A010C7d01b54e4F4e48C38E'

const nodes: NodeHandle[] = []
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
})

async function call<T>(n: NodeHandle, method: string, params: unknown[] = []): Promise<T> {
  const r = await rpcRequest<T>(n.url, method, params)
  if ('error' in r) throw new Error(`${method}: ${r.error.message}`)
  return r.result
}

async function p2pAddr(n: NodeHandle): Promise<string> {
  const info = await call<{ listenAddrs: string[] }>(n, 'admin_nodeInfo')
  return info.listenAddrs[0] as string
}

async function latest(n: NodeHandle): Promise<{ number: string; hash: string }> {
  return call(n, 'eth_getBlockByNumber', ['latest', false])
}

/** Polls until every node has the producer's head (no fixed sleep: it ends at the event). */
async function converge(producer: NodeHandle, others: NodeHandle[], ms = 240_000): Promise<string> {
  const until = Date.now() + ms
  for (;;) {
    const want = await latest(producer)
    const heads = await Promise.all(others.map(latest))
    if (heads.every((h) => h.hash === want.hash)) return want.hash
    if (Date.now() > until) throw new Error(`no convergence: ${want.number} vs ${heads.map((h) => h.number)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe('cairn start --follow over libp2p', () => {
  it('two followers sync from a dev producer, follow its gossip, and relay transactions to it', async () => {
    const producer = await startNode('cairn', { args: P2P })
    nodes.push(producer)
    await call(producer, 'anvil_mine', ['0x12c']) // 300 blocks before anyone follows
    const f1 = await startNode('cairn', { args: [...P2P, '--follow', '--p2p.bootnodes', await p2pAddr(producer)] })
    nodes.push(f1)
    const f2 = await startNode('cairn', { args: [...P2P, '--follow', '--p2p.bootnodes', await p2pAddr(f1)] })
    nodes.push(f2)
    const started = Date.now()
    await converge(producer, [f1, f2])
    console.log(`2 followers synced 300 blocks in ${((Date.now() - started) / 1000).toFixed(1)} s`)

    // A transaction sent to the second follower travels f2 → f1 → producer, is sealed, and the
    // block comes back by gossip.
    const hash = await call<string>(f2, 'eth_sendTransaction', [{ from: DEV0, to: DEV1, value: '0x1' }])
    const until = Date.now() + 120_000
    let receipt: { blockHash: string } | null = null
    while (!receipt && Date.now() < until) {
      receipt = await call(producer, 'eth_getTransactionReceipt', [hash])
      if (!receipt) await new Promise((r) => setTimeout(r, 200))
    }
    expect(receipt).not.toBeNull()
    const head = await converge(producer, [f1, f2])
    const onF2 = await call<{ blockHash: string } | null>(f2, 'eth_getTransactionReceipt', [hash])
    expect(onF2?.blockHash).toBe(receipt?.blockHash)
    expect((await latest(f1)).hash).toBe(head)
    expect(await call<string>(f1, 'net_peerCount')).not.toBe('0x0')
    expect(await call(f1, 'eth_syncing')).toBe(false)
  }, 600_000)
})
