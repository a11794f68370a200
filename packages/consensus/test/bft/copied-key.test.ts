// Two processes with one validator's key (a copied key) in the in-process network: when do the
// copies sign conflicting votes? The state machine takes the first proposal of a round from its
// proposer, so a copy that already holds the other copy's proposal when it enters the round
// prevotes that proposal (and proposes nothing of its own): the copies sign the very same votes.
// Each node starts a height `blockTimeMs` after it entered the previous one (or at the commit, when
// later), so the copies' phase difference persists from height to height: the later copy adopts
// the earlier one's proposal in every round the key proposes and never equivocates. The e2e
// copied-key test (packages/node/test/e2e/devnet-copied-key.e2e.test.ts) gives the copy its own
// pace (no block-time wait, a zero propose timeout): it prevotes nil at the start of every height
// whose proposal is not out yet, while the original prevotes the proposal when it comes, a double
// vote whatever the phases.
import { bytesToHex } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../../chain/test/helpers.ts'
import { bftExtraEvidence, type DuplicateVoteEvidence, decodeBftExtra, MsgType } from '../../src/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

/** The evidence the blocks of node `n` carry, from block 1 to its head. */
async function carried(n: BftNode): Promise<{ block: bigint; ev: DuplicateVoteEvidence }[]> {
  const out: { block: bigint; ev: DuplicateVoteEvidence }[] = []
  for (let h = 1n; h <= n.chain.head.header.number; h++) {
    const block = await n.chain.getBlockByNumber(h)
    for (const ev of bftExtraEvidence(decodeBftExtra(block?.header.extraData as Uint8Array), 1337n)) {
      out.push({ block: h, ev })
    }
  }
  return out
}

/** Canonical hashes 1..upTo of node `n`. */
async function hashes(n: BftNode, upTo: bigint): Promise<string[]> {
  const out: string[] = []
  for (let h = 1n; h <= upTo; h++) out.push(bytesToHex((await n.chain.getCanonicalHash(h)) as Uint8Array))
  return out
}

/** The blocks 1..upTo of node `n` whose coinbase is `proposer`, with their transaction counts. */
async function proposedBy(n: BftNode, proposer: Uint8Array, upTo: bigint): Promise<{ number: bigint; txs: number }[]> {
  const out: { number: bigint; txs: number }[] = []
  for (let h = 1n; h <= upTo; h++) {
    const block = await n.chain.getBlockByNumber(h)
    if (block && bytesToHex(block.header.coinbase.bytes) === bytesToHex(proposer)) {
      out.push({ number: h, txs: block.transactions.length })
    }
  }
  return out
}

/**
 * A network of 4 validators and a fifth node with validator 2's key (its own signer state and
 * store), started `lagMs` after the others with `bft` overriding its genesis's timing. Node 2 always
 * has a transfer pending that the twin never sees, so the two copies' blocks differ.
 */
async function twinNetwork(lagMs: number, bft: Record<string, unknown> = {}) {
  net = await BftNetwork.create({ validators: 4 })
  const n = net
  const node2 = n.nodes[2] as BftNode
  let nonce = 0n
  const feed = async () => {
    if (node2.pool.counts.pending > 0) return
    const tx = transfer(node2.chain.common, KEYS[0] as Uint8Array, nonce++, ADDRS[1] as `0x${string}`, 1n)
    await node2.pool.add(tx, { source: 'local' })
  }
  await feed()
  await n.start()
  await n.run(lagMs)
  const twin = await n.addNode(validatorKey(2), bft)
  await twin.engine.start()
  /** Runs until every node (the twin included) is at `height`, keeping node 2's transfer pending. */
  const runTo = async (height: bigint) => {
    while (n.nodes.some((x) => x.chain.head.header.number < height)) {
      const before = n.nodes.map((x) => x.chain.head.header.number).reduce((a, b) => (a < b ? a : b))
      expect(await n.runUntil(() => n.nodes.every((x) => x.chain.head.header.number > before), 30_000)).toBe(true)
      // The transfers are the only transactions: the next nonce is how many blocks carried.
      let included = 0n
      for (let h = 1n; h <= node2.chain.head.header.number; h++) {
        included += BigInt((await node2.chain.getBlockByNumber(h))?.transactions.length ?? 0)
      }
      if (included === nonce) await feed()
    }
  }
  return { net: n, node2, twin, addr2: node2.engine.address as Uint8Array, runTo }
}

describe('a validator key in two processes', () => {
  it('out of phase, the later copy prevotes the earlier copy’s proposal: no double vote in 24 heights', async () => {
    const { net: n, twin, addr2, runTo } = await twinNetwork(400)
    await runTo(24n)
    // The twin took part (it signed up to the last height) and was never in conflict.
    expect(twin.signerState?.last()?.height).toBeGreaterThanOrEqual(24)
    for (const x of n.nodes) expect(x.engine.evidence.size).toBe(0)
    expect(await carried(n.nodes[0] as BftNode)).toEqual([])
    // Every block validator 2 proposed is node 2's (it carries node 2's transfer; the twin's would
    // be empty): the twin held node 2's proposal when it entered those rounds and prevoted it.
    const mine = await proposedBy(n.nodes[0] as BftNode, addr2, 24n)
    expect(mine.length).toBeGreaterThanOrEqual(5)
    for (const b of mine) expect(b.txs, `block ${b.number}`).toBe(1)
  })

  it('in phase (started together), the copies build their own blocks and prevote them: evidence', async () => {
    const { net: n, addr2, runTo } = await twinNetwork(0)
    await runTo(12n)
    const found = await carried(n.nodes[0] as BftNode)
    expect(found.length).toBeGreaterThan(0)
    for (const { ev } of found) expect(bytesToHex(ev.validator)).toBe(bytesToHex(addr2))
  })

  it('the copy with its own pace (no block-time wait, a zero propose timeout) double-votes whatever its phase', async () => {
    const { net: n, addr2, runTo } = await twinNetwork(400, { blockTimeMs: 0, timeouts: { proposeMs: 0 } })
    await runTo(10n)
    const found = await carried(n.nodes[0] as BftNode)
    expect(found.length).toBeGreaterThan(0)
    for (const { ev } of found) {
      expect(bytesToHex(ev.validator)).toBe(bytesToHex(addr2))
      expect(ev.voteA.type).toBe(MsgType.PREVOTE)
      // nil (the twin, at once) against the block (node 2, once the round's proposal came).
      expect(ev.voteA.blockHash).toBeNull()
    }
    const top = n.nodes.map((x) => x.chain.head.header.number).reduce((a, b) => (a < b ? a : b))
    const reference = await hashes(n.nodes[0] as BftNode, top)
    for (const x of n.nodes) expect(await hashes(x, top)).toEqual(reference)
  })
})
