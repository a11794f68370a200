import { bytesToHex, CairnError } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../chain/test/helpers.ts'
import { P2pErrorCode } from '../src/errors.ts'
import type { Host } from '../src/host.ts'
import { Protocol, type ProtocolSpec, type ReqResp } from '../src/reqresp.ts'
import { metricValue, reqrespHost, type TestNode, testNode, waitFor } from './helpers.ts'

// A block answer's soft byte limit (MAX_RESPONSE_BYTES): the server stops adding chunks once it
// is reached, the requester refuses a chunk past it, and range sync asks again for the rest.

const hosts: Host[] = []
const nodes: TestNode[] = []
afterEach(async () => {
  await Promise.all([...hosts.splice(0).map((h) => h.stop()), ...nodes.splice(0).map((n) => n.stop())])
})

async function host(): Promise<{ host: Host; reqresp: ReqResp }> {
  const h = await reqrespHost()
  hosts.push(h.host)
  return h
}

/** Ten chunks of 40 bytes, the i-th filled with i. */
const tenChunks = async () => Array.from({ length: 10 }, (_, i) => new Uint8Array(40).fill(i))
const spec = (maxResponseBytes?: number): ProtocolSpec => ({
  cost: () => 1,
  maxChunks: 16,
  maxChunkBytes: 1024,
  handle: tenChunks,
  ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
})

async function pair(serverLimit?: number, clientLimit?: number) {
  const server = await host()
  const client = await host()
  await server.reqresp.register(Protocol.BLOCKS_BY_RANGE, spec(serverLimit))
  await client.reqresp.register(Protocol.BLOCKS_BY_RANGE, spec(clientLimit))
  const addr = server.host.getMultiaddrs()[0]
  if (!addr) throw new Error('no address')
  await client.host.dial(addr)
  return () => client.reqresp.request(server.host.peerId, Protocol.BLOCKS_BY_RANGE, new Uint8Array([0xc0]))
}

describe('the soft limit on a response’s bytes', () => {
  it('the server writes no chunk once the chunks written reach the limit (the first always)', async () => {
    // 40 + 40 + 40 = 120 ≥ 100: three chunks, the third crossing the limit.
    expect((await (await pair(100, 100))()).map((c) => c[0])).toEqual([0, 1, 2])
    // A limit below one chunk still answers with one.
    expect((await (await pair(1, 1))()).map((c) => c[0])).toEqual([0])
    // Without a limit: all ten.
    expect(await (await pair())()).toHaveLength(10)
  })

  it('the requester refuses a chunk that comes after the limit was reached, as a peer fault', async () => {
    // A server without the limit (or an older one) answers ten chunks; the requester allows 100 bytes.
    const err = await (await pair(undefined, 100))().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CairnError)
    expect((err as CairnError).code).toBe(P2pErrorCode.TOO_LARGE)
    expect((err as CairnError).fault).toBe('peer')
    // Exactly at the limit's rule: a server limit of 100 is accepted by a requester of 100.
    expect(await (await pair(100, 100))()).toHaveLength(3)
  })

  it('range sync takes a chain in short answers: every block imported once, no peer penalised', async () => {
    // Blocks of 5 transfers (~700 bytes): a 2 KB limit answers about 3 blocks a request.
    const limit = 2048
    const producer = await testNode({ p2p: { announceHeads: false, maxResponseBytes: limit } })
    nodes.push(producer)
    const nonces = [0n, 0n, 0n]
    for (let b = 0; b < 40; b++) {
      for (let i = 0; i < 5; i++) {
        const k = i % 3
        const nonce = nonces[k] as bigint
        nonces[k] = nonce + 1n
        const tx = transfer(
          producer.chain.common,
          KEYS[k] as Uint8Array,
          nonce,
          ADDRS[(k + 1) % 3] as `0x${string}`,
          1n,
        )
        await producer.pool.add(tx, { source: 'local' })
      }
      await producer.engine.seal()
    }
    const late = await testNode({ p2p: { syncBatch: 16, maxResponseBytes: limit } })
    nodes.push(late)
    await late.net.addPeer(producer.net.nodeInfo().listenAddrs[0] as string)
    await waitFor(() => bytesToHex(late.chain.head.hash()) === bytesToHex(producer.chain.head.hash()), 'synced')
    expect(await metricValue(late.registry, 'cairn_p2p_sync_blocks_total')).toBe(40)
    const requests = await metricValue(late.registry, 'cairn_p2p_messages_total', {
      topic: '/cairn/req/blocks_by_range/1',
      direction: 'out',
    })
    // 40 blocks in batches of 16 would be 3 requests; short answers make it many more.
    expect(requests).toBeGreaterThanOrEqual(10)
    const served = await metricValue(producer.registry, 'cairn_p2p_bytes_total', {
      topic: '/cairn/req/blocks_by_range/1',
      direction: 'out',
    })
    expect(served).toBeGreaterThan(0)
    expect(await metricValue(late.registry, 'cairn_p2p_peer_actions_total')).toBe(0)
    expect(await metricValue(producer.registry, 'cairn_p2p_peer_actions_total')).toBe(0)
  })
})
