/**
 * `cairn gateway` over two real dev chains standing in for two shards (chain ids 1337 and 31338),
 * driven by viem as a user would: a transaction sent to the gateway lands on its sender's home
 * shard, reads follow the address, lookups by hash find the shard, `/shard/<n>` is a plain shard
 * endpoint, and bad input is refused with what to do instead.
 */
import { homeShard } from '@cairn/consensus/shard'
import { createPublicClient, http, parseEther } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CairnProcesses, freePort, type NodeHandle, startNode, waitFor } from './harness.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const accounts = Array.from({ length: 10 }, (_, i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }))
const shardOf = (address: string) => homeShard(Uint8Array.from(Buffer.from(address.slice(2), 'hex')), 2)

async function post(url: string, body: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return { status: res.status, json: await res.json().catch(() => null) }
}

describe('cairn gateway over two shards', () => {
  const procs = new CairnProcesses()
  let shards: NodeHandle[] = []
  let gw = ''

  beforeAll(async () => {
    shards = await Promise.all([
      startNode('cairn', { args: ['--chain-id', '1337'] }),
      startNode('cairn', { args: ['--chain-id', '31338'] }),
    ])
    const port = await freePort()
    const g = procs.start([
      'gateway',
      '--shard',
      `0=${shards[0]?.url}`,
      '--shard',
      `1=${shards[1]?.url}`,
      '--port',
      String(port),
    ])
    gw = `http://127.0.0.1:${port}`
    await waitFor(
      async () => (await fetch(`${gw}/health`).catch(() => null))?.ok === true,
      90_000,
      'the gateway answering',
      g.out,
    )
  }, 150_000)

  afterAll(async () => {
    procs.killAll()
    await Promise.all(shards.map((s) => s.stop()))
  })

  it("sends a transaction to its sender's shard and finds it again by hash", async () => {
    const sender = accounts.find((a) => shardOf(a.address) === 1) as (typeof accounts)[number]
    const receiver = '0x000000000000000000000000000000000000beef'
    // Signed for its home shard's chain id (cairn_shardOf says which), sent to the root endpoint.
    const nonce = Number(
      (
        (
          await post(
            gw,
            JSON.stringify({
              jsonrpc: '2.0',
              id: 1,
              method: 'eth_getTransactionCount',
              params: [sender.address, 'pending'],
            }),
          )
        ).json as { result: string }
      ).result,
    )
    const raw = await sender.signTransaction({
      chainId: 31338,
      type: 'eip1559',
      to: receiver,
      value: parseEther('1'),
      nonce,
      gas: 21_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 1n,
    })
    const hash = await createPublicClient({ transport: http(gw) }).sendRawTransaction({ serializedTransaction: raw })
    // Found through the root (it asks every shard), mined on shard 1 only.
    const root = createPublicClient({ transport: http(gw) })
    const receipt = await root.waitForTransactionReceipt({ hash, timeout: 30_000 })
    expect(receipt.status).toBe('success')
    const one = createPublicClient({ transport: http(`${gw}/shard/1`) })
    const zero = createPublicClient({ transport: http(`${gw}/shard/0`) })
    expect(await one.getChainId()).toBe(31338)
    expect((await one.getTransactionReceipt({ hash })).blockNumber).toBe(receipt.blockNumber)
    await expect(zero.getTransactionReceipt({ hash })).rejects.toThrow()
    // The receiver's balance is read on its own shard through the root.
    const receiverShard = shardOf(receiver)
    const viaRoot = await root.getBalance({ address: receiver })
    const direct = await createPublicClient({ transport: http(shards[receiverShard]?.url) }).getBalance({
      address: receiver,
    })
    expect(viaRoot).toBe(direct)
  }, 90_000)

  it('refuses a transaction signed for the wrong shard, naming the right one', async () => {
    const sender = accounts.find((a) => shardOf(a.address) === 1) as (typeof accounts)[number]
    const raw = await sender.signTransaction({
      chainId: 1337,
      to: sender.address,
      value: 1n,
      nonce: 0,
      gas: 21_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 1n,
      type: 'eip1559',
    })
    const { json } = await post(
      gw,
      JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'eth_sendRawTransaction', params: [raw] }),
    )
    const err = (json as { error: { code: number; message: string; data: { homeShard: number; chainId: string } } })
      .error
    expect(err.code).toBe(-32602)
    expect(err.message).toContain('lives on shard 1, whose chain id is 31338')
    expect(err.data).toMatchObject({ code: 'CONSENSUS_SHARD_WRONG_SHARD', homeShard: 1, chainId: '0x7a6a' })
  })

  it('answers its own methods, and a batch in order', async () => {
    const { json } = await post(
      gw,
      JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'cairn_getShardInfo', params: [] },
        { jsonrpc: '2.0', id: 'b', method: 'eth_chainId', params: [] },
        { jsonrpc: '2.0', id: 'c', method: 'cairn_shardOf', params: [accounts[0]?.address] },
      ]),
    )
    const [info, chain, of] = json as { id: string; result: Record<string, unknown> | string }[]
    expect(info?.id).toBe('a')
    const shardsInfo = info?.result as {
      shardCount: number
      shards: { id: number; chainId: string; available: boolean }[]
    }
    expect(shardsInfo.shardCount).toBe(2)
    expect(shardsInfo.shards.map((s) => [s.id, s.chainId, s.available])).toEqual([
      [0, '0x539', true],
      [1, '0x7a6a', true],
    ])
    expect(chain).toMatchObject({ id: 'b', result: '0x539' })
    expect(of?.result).toEqual({
      shard: shardOf(accounts[0]?.address as string),
      chainId: shardOf(accounts[0]?.address as string) === 0 ? '0x539' : '0x7a6a',
    })
    const metrics = await (await fetch(`${gw}/metrics`)).text()
    expect(metrics).toMatch(/cairn_gateway_requests_total\{shard="1"\} [1-9]/)
    expect(metrics).toContain('cairn_gateway_requests_total{shard="refused"}')
  })

  it('refuses bad input with the right codes', async () => {
    expect((await post(gw, '{not json')).json).toMatchObject({ error: { code: -32700 } })
    expect((await post(gw, '[]')).json).toMatchObject({ error: { code: -32600 } })
    expect((await post(`${gw}/shard/7`, '{}')).status).toBe(404)
    const big = await post(
      gw,
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: ['x'.repeat(6 * 1024 * 1024)] }),
    ).catch(() => ({ status: 413 }))
    expect(big.status).toBe(413)
    expect(
      (await post(gw, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ data: '0x' }] }))).json,
    ).toMatchObject({
      error: { code: -32602, message: expect.stringContaining('/shard/<n>') },
    })
  })
})
