/**
 * Block propagation across 4 local nodes over loopback libp2p (in process, MemoryKV, a full
 * mesh): a producer seals BLOCKS blocks of TXS transfers each; for each block and each of the
 * three other nodes, the latency is from the producer's new head (when it publishes the block)
 * to that node's new head (gossip received, validated, imported). Prints p50/p99/max, the block
 * message's compressed size beside its RLP size, and the TCP bytes per block (below). The next block is
 * sealed once every node has the last (no queueing in the figures). The TCP bytes all four
 * nodes wrote while the blocks were made are counted too (a wrapper of `Socket.write`, which
 * libp2p's TCP transport calls): everything a block costs on the wire — the block's gossip copies,
 * its transactions' announcements and body fetches, Noise and Yamux framing, control messages.
 *
 *   node --import tsx packages/p2p/bench/propagation.ts [blocks=100] [txs=20]
 *   (BENCH_JSON=1 adds a `RESULT {…}` line for packages/node/bench/run.ts)
 */
import { Socket } from 'node:net'
import { bytesToHex } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { ADDRS, KEYS, transfer } from '../../chain/test/helpers.ts'
import { metricValue, type TestNode, testNode, waitFor } from '../test/helpers.ts'

/** Bytes written to every TCP socket of this process (the four nodes talk only over loopback TCP). */
let socketBytes = 0
const write = Socket.prototype.write
Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
  if (chunk instanceof Uint8Array) socketBytes += chunk.length
  else if (typeof chunk === 'string') socketBytes += Buffer.byteLength(chunk)
  return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
} as typeof Socket.prototype.write

const BLOCKS = Number(process.argv[2] ?? process.env.BENCH_P2P_BLOCKS ?? 100)
const TXS = Number(process.argv[3] ?? process.env.BENCH_P2P_TXS ?? 20)

const producer = await testNode()
const others: TestNode[] = []
for (let i = 0; i < 3; i++) others.push(await testNode({ p2p: { announceHeads: false } }))
const all = [producer, ...others]
const addr = (n: TestNode) => n.net.nodeInfo().listenAddrs[0] as string
try {
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++) await (all[j] as TestNode).net.addPeer(addr(all[i] as TestNode))
  await waitFor(() => all.every((n) => n.net.peerCount() === 3), 'full mesh')
  const topic = producer.net.topics.blocks
  await waitFor(
    () =>
      all.every((n) => all.filter((o) => o !== n).every((o) => n.net.gossipSubscribers(topic).includes(o.net.peerId))),
    'subscriptions',
  )

  const sealedAt = new Map<string, number>()
  const latencies: number[] = []
  producer.chain.events.on('newHead', ({ block }: { block: Block }) => {
    sealedAt.set(bytesToHex(block.hash()), performance.now())
  })
  for (const n of others) {
    n.chain.events.on('newHead', ({ block }: { block: Block }) => {
      const t0 = sealedAt.get(bytesToHex(block.hash()))
      if (t0 !== undefined) latencies.push(performance.now() - t0)
    })
  }
  const nonces = [0n, 0n, 0n]
  let rlp = 0
  const socketBefore = socketBytes
  for (let b = 0; b < BLOCKS; b++) {
    for (let i = 0; i < TXS; i++) {
      const k = i % 3
      const nonce = nonces[k] as bigint
      nonces[k] = nonce + 1n
      await producer.pool.add(
        transfer(producer.chain.common, KEYS[k] as Uint8Array, nonce, ADDRS[(k + 1) % 3] as `0x${string}`, 1n),
        { source: 'local' },
      )
    }
    const { block } = await producer.engine.seal()
    rlp += block.serialize().length
    const want = bytesToHex(block.hash())
    await waitFor(() => others.every((n) => bytesToHex(n.chain.head.hash()) === want), `block ${b + 1} everywhere`)
  }
  const tcp = socketBytes - socketBefore
  const sorted = [...latencies].sort((a, b) => a - b)
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
  let wire = 0
  for (const n of all) wire += await metricValue(n.registry, 'cairn_p2p_bytes_total', { topic, direction: 'out' })
  const result = {
    nodes: all.length,
    blocks: BLOCKS,
    txsPerBlock: TXS,
    samples: latencies.length,
    p50Ms: Number(q(0.5).toFixed(1)),
    p99Ms: Number(q(0.99).toFixed(1)),
    maxMs: Number((sorted[sorted.length - 1] ?? 0).toFixed(1)),
    gossipBytesPerBlock: Math.round(wire / BLOCKS),
    tcpBytesPerBlock: Math.round(tcp / BLOCKS),
    rlpBytesPerBlock: Math.round(rlp / BLOCKS),
  }
  console.log(
    `block propagation, ${all.length} nodes (full mesh), ${BLOCKS} blocks of ${TXS} transfers: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms (${result.samples} samples)`,
  )
  console.log(
    `wire: ${result.tcpBytesPerBlock} TCP bytes per block written by all nodes together (block gossip, transaction announcements and fetches, framing, control); the block message itself ${result.gossipBytesPerBlock} bytes snappy-compressed (RLP ${result.rlpBytesPerBlock})`,
  )
  if (process.env.BENCH_JSON === '1') console.log(`RESULT ${JSON.stringify(result)}`)
} finally {
  await Promise.all(all.map((n) => n.stop()))
}
