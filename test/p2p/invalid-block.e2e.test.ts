// A peer that gossips an invalid block, against real `cairn` processes: a dev producer and a
// follower of it (`--follow`, connected only to the producer), and a misbehaving libp2p peer built
// here from packages/p2p's own network (real libp2p over loopback, the dev genesis of `cairn start
// --dev`). It syncs the producer's block 1, then gossips a block 2 whose header is valid but whose
// execution is not (another state root). The producer bans it (metrics, admin_peers, a refused
// reconnection) and never forwards the block: the follower, which receives the producer's next
// valid block by gossip, never sees the invalid one.
import { keccak256 } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { afterAll, describe, expect, it } from 'vitest'
import { devNodeGenesis } from '../../packages/node/src/node-genesis.ts'
import { type CairnProcess, call, headOf, metric, startCairn, waitFor } from '../../packages/node/test/cli/cluster.ts'
import { type TestNode, testNode } from '../../packages/p2p/test/helpers.ts'

const procs: CairnProcess[] = []
let bad: TestNode | undefined
afterAll(async () => {
  await bad?.stop()
  await Promise.all(procs.splice(0).map((p) => p.stop()))
})

const peerIdOf = (addr: string) => addr.slice(addr.lastIndexOf('/') + 1)
const peersOf = async (url: string) => (await call<{ id: string }[]>(url, 'admin_peers')).map((p) => p.id)

/** A transfer from dev account 0 through the node (instant sealing: one block), once mined. */
async function transfer(url: string): Promise<void> {
  const [from] = await call<string[]>(url, 'eth_accounts')
  const hash = await call<string>(url, 'eth_sendTransaction', [
    { from, to: '0x000000000000000000000000000000000000beef', value: '0x1' },
  ])
  await waitFor(async () => (await call(url, 'eth_getTransactionReceipt', [hash])) !== null, `receipt of ${hash}`)
}

/** The block with another state root: a valid header, an execution that disagrees. */
function invalidVariant(block: Block): { bytes: Uint8Array; hash: string } {
  const raw = block.raw() as unknown as Uint8Array[][]
  const header = [...(raw[0] as Uint8Array[])]
  header[3] = new Uint8Array(32).fill(0xbb)
  return {
    bytes: RLP.encode([header, ...raw.slice(1)] as never),
    hash: bytesToHex(keccak256(RLP.encode(header as never))),
  }
}

describe('a peer that gossips an invalid block to cairn processes', () => {
  it('is banned by the node it sent it to, and the block never reaches that node’s peers', {
    timeout: 90_000,
  }, async () => {
    const producer = await startCairn(['--dev', '--ephemeral', '--p2p.enabled'])
    procs.push(producer)
    const producerId = peerIdOf(producer.addr)
    await transfer(producer.url) // block 1, before anyone connects: each peer range-syncs it on connect
    const one = await headOf(producer.url)
    expect(one.number).toBe(1)
    const follower = await startCairn(['--dev', '--follow', '--ephemeral', '--p2p.bootnodes', producer.addr])
    procs.push(follower)

    bad = await testNode({ genesis: devNodeGenesis({}), now: () => Math.floor(Date.now() / 1000) })
    const badNode = bad
    const badId = badNode.net.peerId
    await badNode.net.addPeer(producer.addr)
    await waitFor(async () => bytesToHex(badNode.chain.head.hash()) === one.hash, 'the bad peer synced block 1')
    await waitFor(async () => (await headOf(follower.url)).hash === one.hash, 'the follower synced block 1')
    const topic = badNode.net.topics.blocks
    await waitFor(async () => badNode.net.gossipSubscribers(topic).includes(producerId), 'producer subscribed')
    // The bad peer's only peer is the producer; the follower's only peer too: anything the
    // follower got from the bad peer would have come through the producer.
    expect(badNode.net.peers().map((p) => p.id)).toEqual([producerId])
    expect(await peersOf(producer.url)).toContain(badId)
    expect(await peersOf(follower.url)).toEqual([producerId])

    // The producer → follower gossip path works before the invalid block is sent: a block of the
    // producer's reaches the follower by gossip (accepted there). A block sealed before the
    // follower's subscription reached the producer is not gossiped to it (it comes with the next
    // status refresh, 30 s): then another block, until one comes by gossip.
    const accepted = () => metric(follower.url, 'cairn_p2p_gossip_validation_total', { topic, result: 'accept' })
    for (let attempt = 0; ; attempt++) {
      const before = await accepted()
      await transfer(producer.url)
      const head = await headOf(producer.url)
      const gossiped = await waitFor(
        async () => (await headOf(follower.url)).hash === head.hash && (await accepted()) > before,
        'a block gossiped to the follower',
        5_000,
      ).then(
        () => true,
        () => false,
      )
      if (gossiped) break
      if (attempt >= 5) throw new Error('no block of the producer reached the follower by gossip')
    }
    // The bad peer builds on the producer's head (it may have missed a gossiped block: it fetches
    // what it lacks by range), so that only the block's execution is wrong.
    const head = await headOf(producer.url)
    const from = badNode.chain.head.header.number + 1n
    if (from <= BigInt(head.number)) {
      for (const b of await badNode.net.blocksByRange(producerId, from, head.number - Number(from) + 1))
        await badNode.chain.processBlock(b, { source: 'sync', peer: producerId })
    }
    expect(bytesToHex(badNode.chain.head.hash())).toBe(head.hash)
    const invalid = invalidVariant((await badNode.engine.propose(badNode.chain.head)).block)
    await badNode.net.publishBlock(invalid.bytes)
    await waitFor(async () => (await metric(producer.url, 'cairn_p2p_bans_total')) >= 1, 'the bad peer banned')
    await waitFor(async () => !(await peersOf(producer.url)).includes(badId), 'the bad peer disconnected')
    expect(await metric(producer.url, 'cairn_p2p_bans_total')).toBe(1)
    expect(await metric(producer.url, 'cairn_p2p_gossip_validation_total', { topic, result: 'reject' })).toBe(1)
    expect(await call(producer.url, 'eth_getBlockByHash', [invalid.hash, false])).toBeNull()

    // The producer's next (valid) block reaches the follower by gossip, on the path the invalid one
    // would have taken had it been forwarded; the invalid one never arrived.
    const acceptedBefore = await accepted()
    await transfer(producer.url)
    const next = await headOf(producer.url)
    await waitFor(async () => (await headOf(follower.url)).hash === next.hash, 'the follower at the next block')
    expect(await accepted()).toBe(acceptedBefore + 1)
    expect(await metric(follower.url, 'cairn_p2p_gossip_validation_total', { topic, result: 'reject' })).toBe(0)
    expect(await metric(follower.url, 'cairn_p2p_gossip_validation_total', { topic, result: 'ignore' })).toBe(0)
    expect(await call(follower.url, 'eth_getBlockByHash', [invalid.hash, false])).toBeNull()
    expect(await peersOf(follower.url)).not.toContain(badId)

    // The ban holds: a new connection from the bad peer is refused.
    await badNode.net.addPeer(producer.addr)
    await waitFor(
      async () => (await metric(producer.url, 'cairn_p2p_refused_connections_total', { reason: 'banned' })) >= 1,
      'the reconnection refused',
    )
    expect(await peersOf(producer.url)).not.toContain(badId)
  })
})
