// Real `cairn` processes on loopback: a dev producer and three followers (`--dev --follow
// --p2p.bootnodes …`) converge on the producer's head while transactions are sent to every
// node; a follower killed with -9 mid-sync resumes after a restart on its datadir; a node of
// another chain is refused at the status exchange; then a node that joins late syncs the whole chain
// (1,000 blocks and more; CAIRN_P2P_E2E_LATE_BLOCKS=10000 first grows it to the 10,000 and
// lets the followers sync them before the late node joins: 394 s in all at load ~14 on 2 cores,
// against ~60 s without — mining 9,000 blocks 105 s, the followers' sync 140 s, the late joiner's
// 10,000 blocks 100 s — so not by default).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type CairnProcess, call, headOf, metric, startCairn, waitFor } from '../../packages/node/test/cli/cluster.ts'

const BLOCKS = 1000
/** The chain the late joiner syncs: at least this many blocks (the producer mines up to it). */
const LATE_BLOCKS = Number(process.env.CAIRN_P2P_E2E_LATE_BLOCKS ?? 0)
const procs: CairnProcess[] = []
const datadir = mkdtempSync(join(tmpdir(), 'cairn-p2p-e2e-'))
afterAll(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop()))
  rmSync(datadir, { recursive: true, force: true })
})

async function start(args: string[]): Promise<CairnProcess> {
  const p = await startCairn(args)
  procs.push(p)
  return p
}

describe('p2p between cairn processes', () => {
  // Once flaky at load (4 runs in 8 failed at load 8-14 on 2 cores), for one cause seen as two
  // symptoms: the node of another chain never read the producer's refusal (the producer hung up
  // right after writing it, and libp2p drops a stream's unread data when its connection ends), so
  // it kept its bootnode and libp2p's keep-alive dialled the producer again at once each time the
  // banned node was hung up on (about 5 connections a second). That spent the producer's inbound
  // allowance for 127.0.0.1 (libp2p: 5 connections a second per host), and it refused the dials of
  // the followers: f3's first start then never synced, or f3 restarted after its kill -9 with no
  // peer (its transactions stayed in its pool: "NoPeersSubscribedToTopic"), a failed bootnode
  // dial being never tried again. Fixed in packages/p2p: the refusal is hung up on only once the
  // peer has read it (reqresp `served`), kept peers are dialled again with backoff (redial.ts),
  // and a range sync that left out every peer ahead is tried again (sync.ts). Since then the per-IP
  // limits are Cairn's (packages/p2p/src/inbound-limits.ts), with loopback exempt by default.
  it('a producer and three followers converge while transactions go to any node; kill -9 mid-sync resumes; another chain is refused; a late joiner syncs', {
    timeout: 150_000 + LATE_BLOCKS * 60,
  }, async () => {
    const t0 = Date.now()
    const progress = (what: string) =>
      process.stderr.write(`p2p e2e ${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
    const producer = await start(['--dev', '--ephemeral', '--p2p.enabled'])
    const mineStart = Date.now()
    for (let left = BLOCKS; left > 0; left -= 200) {
      await call(producer.url, 'anvil_mine', [`0x${Math.min(left, 200).toString(16)}`], 60_000)
    }
    const mineS = (Date.now() - mineStart) / 1000
    progress('mined')
    expect((await headOf(producer.url)).number).toBe(BLOCKS)
    const follow = ['--dev', '--follow', '--p2p.bootnodes', producer.addr]
    // (the node of another chain id starts beside them; it is checked at the end)
    const [f1, f2, f3, other] = await Promise.all([
      start([...follow, '--ephemeral']),
      start([...follow, '--ephemeral']),
      start([...follow, '--datadir', datadir]),
      start(['--dev', '--ephemeral', '--chain-id', '999', '--p2p.enabled', '--p2p.bootnodes', producer.addr]),
    ])
    if (!f1 || !f2 || !f3 || !other) throw new Error('nodes did not start')
    progress('started')

    // f3 is killed with -9 in the middle of its range sync, then restarted on its datadir.
    let killedAt = 0
    await waitFor(async () => {
      killedAt = (await headOf(f3.url)).number
      return killedAt >= 50
    }, 'f3 mid-sync')
    await f3.kill9()
    procs.splice(procs.indexOf(f3), 1)
    const killedS = (Date.now() - t0) / 1000
    const f3again = await start([...follow, '--datadir', datadir])
    const resumedFrom = (await headOf(f3again.url)).number
    // What it had imported before the kill is still there; it did not start again from genesis.
    expect(resumedFrom).toBeGreaterThanOrEqual(50)
    progress('restarted')
    expect(resumedFrom).toBeLessThan(BLOCKS)

    // Transactions to every node (dev accounts are unlocked on each): the followers' reach the producer.
    const accounts = await call<string[]>(producer.url, 'eth_accounts')
    const nodes = [producer, f1, f2, f3again]
    const hashes: string[] = []
    for (let i = 0; i < 12; i++) {
      const node = nodes[i % nodes.length] as CairnProcess
      const from = accounts[i % 4] as string
      hashes.push(
        // A follower still range-syncing 1,000 blocks answered after more than 10 s once at load 15.
        await call<string>(
          node.url,
          'eth_sendTransaction',
          [{ from, to: '0x000000000000000000000000000000000000beef', value: '0x1' }],
          30_000,
        ),
      )
    }
    for (const h of hashes) {
      await waitFor(
        async () => (await call(producer.url, 'eth_getTransactionReceipt', [h])) !== null,
        `receipt of ${h}`,
        60_000,
      )
    }
    const receiptsS = (Date.now() - t0) / 1000
    progress('receipts')
    const target = await headOf(producer.url)
    expect(target.number).toBeGreaterThan(BLOCKS)
    for (const f of [f1, f2, f3again]) {
      await waitFor(async () => (await headOf(f.url)).hash === target.hash, 'follower at the producer head', 60_000)
    }
    // Every receipt is on every follower, in the same block.
    for (const h of hashes) {
      const r = await call<{ blockHash: string }>(producer.url, 'eth_getTransactionReceipt', [h])
      for (const f of [f1, f2, f3again])
        expect((await call<{ blockHash: string }>(f.url, 'eth_getTransactionReceipt', [h]))?.blockHash).toBe(
          r.blockHash,
        )
    }
    const convergedS = (Date.now() - t0) / 1000
    expect(await call<string>(f1.url, 'net_peerCount')).not.toBe('0x0')
    expect(await call<boolean>(f1.url, 'eth_syncing')).toBe(false)

    // Another chain (another chain id) is refused at status, on both sides.
    await waitFor(
      async () => (await metric(producer.url, 'cairn_p2p_status_refused_total', { reason: 'chain_id' })) >= 1,
      'producer refuses the other chain',
    )
    await waitFor(
      async () => (await metric(other.url, 'cairn_p2p_status_refused_total', { reason: 'chain_id' })) >= 1,
      'the other chain refuses the producer',
    )
    expect(await call<string>(other.url, 'net_peerCount')).toBe('0x0')
    expect((await headOf(other.url)).number).toBe(0)

    // A node that joins late syncs the whole chain from the four (grown first to LATE_BLOCKS).
    const have = (await headOf(producer.url)).number
    for (let left = LATE_BLOCKS - have; left > 0; left -= 1000) {
      await call(producer.url, 'anvil_mine', [`0x${Math.min(left, 1000).toString(16)}`], 120_000)
    }
    const chainHead = await headOf(producer.url)
    progress(`grown to ${chainHead.number}`)
    // The network is in sync when the late node joins (the followers sync what was just mined first).
    for (const f of [f1, f2, f3again]) {
      await waitFor(
        async () => (await headOf(f.url)).hash === chainHead.hash,
        'follower at the grown head',
        60_000 + LATE_BLOCKS * 30,
      )
    }
    progress('followers at the grown head')
    const lateStart = Date.now()
    const late = await start([...follow, '--ephemeral'])
    await waitFor(
      async () => (await headOf(late.url)).hash === chainHead.hash,
      'the late joiner at the head',
      60_000 + LATE_BLOCKS * 20,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message} (${chainHead.number}): it reached ${(await headOf(late.url)).number}`)
    })
    const lateS = (Date.now() - lateStart) / 1000
    expect(await metric(late.url, 'cairn_p2p_sync_blocks_total')).toBeGreaterThanOrEqual(chainHead.number - 1)
    console.log(
      `p2p e2e: ${BLOCKS} blocks mined in ${mineS.toFixed(1)} s + ${hashes.length} txs, f3 killed at ≥ ${killedAt}, resumed from ${resumedFrom} (kill at ${killedS.toFixed(1)} s); receipts at ${receiptsS.toFixed(1)} s, converged at ${convergedS.toFixed(1)} s; the late joiner synced ${chainHead.number} blocks in ${lateS.toFixed(1)} s (start included); total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    )
  })
})
