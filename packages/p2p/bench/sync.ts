/**
 * Sync speed from one peer over loopback libp2p: a producer seals BLOCKS blocks of TXS transfers
 * each (in process, MemoryKV), then measures (1) a fresh node importing them directly through
 * `processBlock` (the node's own import rate) and (2) another fresh node range-syncing them over
 * libp2p. Prints blocks/s, transactions/s and bytes on the wire per block.
 *
 *   node --import tsx packages/p2p/bench/sync.ts [blocks=500] [txs=10]
 */
import { bytesToHex } from '@cairn/utils'
import { ADDRS, KEYS, transfer } from '../../chain/test/helpers.ts'
import { metricValue, testNode, waitFor } from '../test/helpers.ts'

const BLOCKS = Number(process.argv[2] ?? 500)
const TXS = Number(process.argv[3] ?? 10)

const producer = await testNode()
const direct = await testNode()
const syncer = await testNode()
try {
  const nonces = [0n, 0n, 0n]
  for (let b = 0; b < BLOCKS; b++) {
    for (let i = 0; i < TXS; i++) {
      const k = i % 3
      const nonce = nonces[k] as bigint
      nonces[k] = nonce + 1n
      const tx = transfer(producer.chain.common, KEYS[k] as Uint8Array, nonce, ADDRS[(k + 1) % 3] as `0x${string}`, 1n)
      await producer.pool.add(tx, { source: 'local' })
    }
    await producer.engine.seal()
  }
  const blocks: Uint8Array[] = []
  for (let n = 1n; n <= BigInt(BLOCKS); n++)
    blocks.push((await producer.chain.getBlockByNumber(n))?.serialize() as Uint8Array)

  let t = performance.now()
  for (const bytes of blocks) await direct.chain.processBlock(bytes, { source: 'sync', peer: 'bench' })
  const importS = (performance.now() - t) / 1000

  t = performance.now()
  await syncer.net.addPeer(producer.net.nodeInfo().listenAddrs[0] as string)
  const want = bytesToHex(producer.chain.head.hash())
  await waitFor(() => bytesToHex(syncer.chain.head.hash()) === want, 'sync', 600_000)
  const syncS = (performance.now() - t) / 1000
  const wire = await metricValue(syncer.registry, 'cairn_p2p_bytes_total', {
    topic: '/cairn/req/blocks_by_range/1',
    direction: 'in',
  })
  const rlp = blocks.reduce((s, b) => s + b.length, 0)
  const row = (what: string, s: number) =>
    `${what}: ${BLOCKS} blocks in ${s.toFixed(2)} s = ${(BLOCKS / s).toFixed(0)} blocks/s, ${((BLOCKS * TXS) / s).toFixed(0)} tx/s`
  console.log(row('direct import (processBlock)', importS))
  console.log(row('range sync over libp2p       ', syncS))
  console.log(`wire: ${(wire / BLOCKS).toFixed(0)} bytes/block compressed (RLP ${(rlp / BLOCKS).toFixed(0)})`)
} finally {
  await Promise.all([producer.stop(), direct.stop(), syncer.stop()])
}
