import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { snappy, unsnappy } from '../src/codec.ts'
import type { Host } from '../src/host.ts'
import { Protocol, type ReqResp } from '../src/reqresp.ts'
import { reqrespHost, waitFor } from './helpers.ts'

const hosts: Host[] = []
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()))
})

async function host(): Promise<{ host: Host; reqresp: ReqResp }> {
  const h = await reqrespHost()
  hosts.push(h.host)
  return h
}

describe('request/response on loopback', () => {
  it('runs `served` (where a refused peer is hung up on) only once the requester has read the answer and closed the stream', async () => {
    const server = await host()
    const client = await host()
    const served: string[] = []
    await server.reqresp.register(Protocol.STATUS, {
      cost: () => 1,
      maxChunks: 1,
      maxChunkBytes: 1024,
      handle: async () => [new Uint8Array([1, 2, 3])],
      served: (peer) => served.push(peer),
    })
    // A second protocol: a round trip through it shows the server has finished writing the first answer.
    await server.reqresp.register(Protocol.BLOCKS_BY_HASH, {
      cost: () => 1,
      maxChunks: 1,
      maxChunkBytes: 1024,
      handle: async () => [],
    })
    await client.reqresp.register(Protocol.BLOCKS_BY_HASH, {
      cost: () => 1,
      maxChunks: 1,
      maxChunkBytes: 1024,
      handle: async () => [],
    })
    const addr = server.host.getMultiaddrs()[0]
    if (!addr) throw new Error('no address')
    await client.host.dial(addr)
    // A requester that reads the whole answer but is slow to close its end (a busy node).
    const stream = await client.host.dialProtocol(server.host.peerId, Protocol.STATUS)
    const lp = lpStream(stream)
    await lp.write(snappy(new Uint8Array([0xc0])))
    const frames: Uint8Array[] = []
    for (;;) {
      const f = (await lp.read()).subarray()
      if (f[0] === 0xff) break
      frames.push(unsnappy(f.subarray(1), 1024))
    }
    expect(frames.map((f) => [...f])).toEqual([[1, 2, 3]])
    await client.reqresp.request(server.host.peerId, Protocol.BLOCKS_BY_HASH, new Uint8Array([0xc0]))
    // The server wrote everything and closed its side; a hang-up now could still overtake the
    // answer in a busier requester's buffers, so `served` waits for the requester.
    expect(served).toEqual([])
    await stream.close()
    await waitFor(() => served.length === 1, 'served after the requester closed')
    expect(served).toEqual([client.host.peerId.toString()])
  })
})
