import type { RpcDispatcher } from '@cairn/rpc'
import { silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { type StartedNode, startNode } from '../../src/node.ts'
import { headFreshness, rpcAccepts } from '../../src/readiness.ts'
import { rpc } from '../cli/run-cli.ts'

async function ready(
  url: string,
): Promise<{ status: number; body: { status: string; checks: { name: string; ok: boolean; detail: string }[] } }> {
  const res = await fetch(`${url}/ready`)
  return { status: res.status, body: (await res.json()) as never }
}

async function send(node: StartedNode): Promise<void> {
  const hash = await rpc(node.url, 'eth_sendTransaction', [
    { from: node.accounts[0]?.address, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
  ])
  expect(hash).toMatch(/^0x[0-9a-f]{64}$/)
}

describe('readiness: head freshness and the RPC accepting work', () => {
  let node: StartedNode
  beforeAll(async () => {
    const config = loadConfig({
      flags: { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1' },
      env: {},
    })
    node = await startNode(config, { logger: silentLogger })
  })
  afterAll(async () => {
    await node?.close()
  })

  it('/ready lists the db, head and rpc checks, all passing on a fresh dev node', async () => {
    const { status, body } = await ready(node.url)
    expect(status).toBe(200)
    expect(body.checks.map((c) => [c.name, c.ok])).toEqual(
      expect.arrayContaining([
        ['db', true],
        ['head', true],
        ['rpc', true],
      ]),
    )
  })

  it('instant sealing: stuck only while executable transactions wait with no new head', async () => {
    let t = 0
    const check = headFreshness(
      { blockTime: 0, stuckAfterMs: 1000 },
      { chain: node.chain, pool: node.pool, now: () => t },
    )
    t = 60_000 // a quiet node with nothing pending is not stuck, however old its head
    await expect(check()).resolves.toBeUndefined()
    await node.engine.stop()
    await send(node)
    await expect(check()).rejects.toThrow(/transactions are pending but no block was sealed for 60 s/)
    await node.engine.start() // seals what is pending: a new head
    for (let i = 0; i < 200 && node.pool.size > 0; i++) await new Promise((r) => setTimeout(r, 20))
    await expect(check()).resolves.toBeUndefined()
  })

  it('interval sealing: stale after three block times without a new head', async () => {
    let t = 0
    const check = headFreshness(
      { blockTime: 2, stuckAfterMs: 1000 },
      { chain: node.chain, pool: node.pool, now: () => t },
    )
    t = 5_999
    await expect(check()).resolves.toBeUndefined()
    t = 6_001
    await expect(check()).rejects.toThrow(/no new block for 6 s \(block time 2 s\)/)
    await send(node) // instant sealing makes a block: the check follows newHead
    for (let i = 0; i < 200 && node.pool.size > 0; i++) await new Promise((r) => setTimeout(r, 20))
    await expect(check()).resolves.toBeUndefined()
  })

  it('rpc: fails with the error the dispatcher answered', async () => {
    const broken = {
      handle: async () => ({ jsonrpc: '2.0', id: 0, error: { code: -32603, message: 'internal error' } }),
    } as unknown as RpcDispatcher
    await expect(rpcAccepts({ dispatcher: broken })()).rejects.toThrow(/eth_blockNumber failed: internal error/)
  })
})
