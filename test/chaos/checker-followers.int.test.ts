// The producer topology's checker (checker-followers.ts) against small JSON-RPC servers on
// loopback that serve made-up chains: a follower whose chain is the producer's passes; a block
// that differs from the producer's at one height, a follower above the producer, and a head served
// during the run that the producer's final chain does not hold are each reported.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { checkFollowers, type HeadSample } from './checker-followers.ts'
import type { Cluster, NodeSpec } from './cluster.ts'

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

const hash = (chain: string, h: number) => `0x${chain.padEnd(2, '0')}${h.toString(16).padStart(62, '0')}`

/** A node serving blocks 0..top; `fork` names the chain from `forkAt` on (other heights: the producer's). */
async function node(top: number, fork?: { at: number; name: string }): Promise<string> {
  const id = (h: number) => (fork && h >= fork.at ? fork.name : 'aa')
  const block = (h: number) =>
    h > top
      ? null
      : {
          number: `0x${h.toString(16)}`,
          hash: hash(id(h), h),
          parentHash: h === 0 ? `0x${'0'.repeat(64)}` : hash(id(h - 1), h - 1),
          extraData: '0x',
          transactions: [],
        }
  const answer = (m: { id: number; method: string; params: unknown[] }) => {
    const result =
      m.method === 'eth_blockNumber'
        ? `0x${top.toString(16)}`
        : m.method === 'eth_getBlockByNumber'
          ? block(Number(m.params[0]))
          : '0x0' // eth_getBalance, eth_getStorageAt: nothing moved
    return { jsonrpc: '2.0', id: m.id, result }
  }
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      const msg = JSON.parse(body)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(Array.isArray(msg) ? msg.map(answer) : answer(msg)))
    })
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function cluster(urls: string[]): Cluster {
  const nodes = urls.map((url, k) => ({ name: k === 0 ? 'p' : `f${k}`, url, ...(k === 0 ? { producer: true } : {}) }))
  return { nodes: nodes as unknown as NodeSpec[] } as Cluster
}

describe('checkFollowers', () => {
  it('passes followers that hold the producer chain (a follower behind included)', async () => {
    const c = cluster([await node(20), await node(20), await node(15)])
    const heads: HeadSample[] = [{ node: 'f2', at: 0, number: 12, hash: hash('aa', 12) }]
    const r = await checkFollowers({ cluster: c, txs: [], heads })
    expect(r.violations).toEqual([])
    expect(r.heights).toEqual({ p: 20, f1: 20, f2: 15 })
    expect(r.headsChecked).toBe(1)
  })

  it('reports a follower holding another block at a height, and one above the producer', async () => {
    const c = cluster([await node(20), await node(20, { at: 17, name: 'bb' }), await node(22)])
    const r = await checkFollowers({ cluster: c, txs: [], heads: [] })
    expect(r.violations).toContain(
      `agreement: f1 holds ${hash('bb', 17)} at height 17; the producer holds ${hash('aa', 17)}`,
    )
    expect(r.violations).toContain("agreement: f2's head 22 is above the producer's 20")
  })

  it('reports a head served during the run that the final chain does not hold', async () => {
    const c = cluster([await node(20), await node(20)])
    const heads: HeadSample[] = [
      { node: 'p', at: 0, number: 9, hash: hash('aa', 9) },
      { node: 'p', at: 1, number: 10, hash: hash('cc', 10) },
    ]
    const r = await checkFollowers({ cluster: c, txs: [], heads })
    expect(r.violations).toHaveLength(1)
    expect(r.violations[0]).toMatch(/^replaced: p served 1 head\(s\) the producer's chain does not hold \(heights 10\)/)
  })
})
