import { Chain } from '@cairn/chain'
import { createCustomCrypto, keccak256 } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { bytesToHex, silentLogger } from '@cairn/utils'
import { createBlockHeader } from '@ethereumjs/block'
import { createTxFromRLP } from '@ethereumjs/tx'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../../chain/test/helpers.ts'
import {
  bftChainRules,
  bftExtraEvidence,
  type DuplicateVoteEvidence,
  decodeBftExtra,
  decodeCertificate,
  decodeWire,
  duplicateVoteEvidence,
  EvidencePool,
  encodeBftExtra,
  encodeEvidence,
  encodeEvidenceList,
  encodeWire,
  MsgType,
  PENDING_EVIDENCE_KEY,
  signDigest,
  ValidatorSchedule,
  verifyCertificate,
  voteDigest,
} from '../../src/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'
import { headerContext } from '../harness/chain-probes.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

function hashes(n: BftNode, upTo: bigint): Promise<string[]> {
  return Promise.all(
    Array.from({ length: Number(upTo) }, async (_, i) => {
      const h = await n.chain.getCanonicalHash(BigInt(i + 1))
      return h ? bytesToHex(h) : 'missing'
    }),
  )
}

async function finalizedNumber(n: BftNode): Promise<bigint> {
  return (await n.chain.checkpoint('finalized')).header.number
}

describe('BftEngine in the in-process network', () => {
  it('4 validators commit every height with the same hashes, finality = the last commit, certificates in the next header', async () => {
    net = await BftNetwork.create({ validators: 4, followers: 1 })
    await net.start()
    const node0 = net.nodes[0] as BftNode
    // A transfer sent to every pool (as gossip would) ends up in a committed block.
    const tx = transfer(node0.chain.common, KEYS[0] as Uint8Array, 0n, ADDRS[1] as `0x${string}`, 1000n)
    for (const n of net.nodes) await n.pool.add(tx, { source: 'local' })
    const N = 8n
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= N))).toBe(true)
    const reference = await hashes(node0, N)
    for (const n of net.nodes) {
      expect(await hashes(n, N)).toEqual(reference)
      // Finalized (and safe) is the last committed block: the head on a validator.
      if (n.key !== null) {
        expect(await finalizedNumber(n)).toBe(n.chain.head.header.number)
        expect(bytesToHex((await n.chain.checkpoint('safe')).hash())).toBe(bytesToHex(n.chain.head.hash()))
      }
    }
    expect(await node0.chain.getTxLocation(tx.hash())).toBeDefined()
    // Block H+1 carries the certificate of H; the finality bucket holds a certificate of every commit.
    const schedule = new ValidatorSchedule(
      (
        net.genesis as { config: { cairn: { bft: { validators: { address: string }[] } } } }
      ).config.cairn.bft.validators.map((v) => ({ address: Buffer.from(v.address.slice(2), 'hex'), votingPower: 10n })),
    )
    for (let h = 2n; h <= N; h++) {
      const block = (await node0.chain.getBlockByNumber(h)) as NonNullable<
        Awaited<ReturnType<typeof node0.chain.getBlockByNumber>>
      >
      const extra = decodeBftExtra(block.header.extraData)
      expect(extra.parentCertificate?.height).toBe(Number(h - 1n))
      expect(bytesToHex(extra.parentCertificate?.blockHash as Uint8Array)).toBe(bytesToHex(block.header.parentHash))
      verifyCertificate(extra.parentCertificate as never, schedule.at(Number(h - 1n)), 1337n)
      const stored = await node0.chain.getFinality(block.header.parentHash)
      expect(decodeCertificate(stored as Uint8Array).height).toBe(Number(h - 1n))
    }
  }, 60_000)

  it('a validator executes a proposal with the transactions (and senders) its pool holds; one that lacks them recovers them, and all agree', async () => {
    net = await BftNetwork.create({ validators: 4 })
    const node0 = net.nodes[0] as BftNode
    const txs = [0n, 1n, 2n, 3n, 4n].map((n) =>
      transfer(node0.chain.common, KEYS[0] as Uint8Array, n, ADDRS[1] as `0x${string}`, 1000n),
    )
    // Nodes 0-2 pooled them (as gossip would: each its own objects, under its chain's rules); node 3
    // did not: its proposals are empty.
    for (const n of net.nodes.slice(0, 3)) {
      for (const tx of txs)
        await n.pool.add(createTxFromRLP(tx.serialize(), { common: n.chain.common }), { source: 'local' })
    }
    // Per node, the proposal's transactions that had their sender before any recovery: the pool's
    // own objects (a proposal's pooled transactions are taken as decoded) or seeded from it.
    const seeded = net.nodes.map(() => 0)
    const pooledObjects = net.nodes.map(() => 0)
    net.nodes.forEach((n, i) => {
      const seed = n.pool.seedSenders.bind(n.pool)
      vi.spyOn(n.pool, 'seedSenders').mockImplementation((list) => {
        const count = seed(list)
        seeded[i] = (seeded[i] as number) + list.filter((t) => t.cache.senderPubKey !== undefined).length
        pooledObjects[i] = (pooledObjects[i] as number) + list.filter((t) => n.pool.get(t.hash()) === t).length
        return count
      })
    })
    await net.start()
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= 4n))).toBe(true)
    const reference = await hashes(node0, 4n)
    for (const n of net.nodes) {
      expect(await hashes(n, 4n)).toEqual(reference)
      for (const tx of txs) expect(await n.chain.getTxLocation(tx.hash())).toBeDefined()
    }
    // The block of the five came from one of nodes 0-2; the other two executed it with pooled keys.
    expect(seeded.slice(0, 3).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10)
    expect(pooledObjects.slice(0, 3).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(10)
    expect(seeded[3]).toBe(0)
    // Every node's state: the sender's five transfers executed (nonce 5).
    for (const n of net.nodes) {
      const account = await n.chain
        .stateAfter(n.chain.head.header)
        .getAccount((txs[0] as (typeof txs)[number]).getSenderAddress())
      expect(account?.nonce).toBe(5n)
    }
  }, 60_000)

  it('commits with one validator silent', async () => {
    net = await BftNetwork.create({ validators: 4 })
    net.silent.add(3)
    await net.start()
    expect(await net.runUntil(() => [0, 1, 2].every((i) => net!.height(i) >= 5n))).toBe(true)
    const reference = await hashes(net.nodes[0] as BftNode, 5n)
    for (const i of [1, 2]) expect(await hashes(net.nodes[i] as BftNode, 5n)).toEqual(reference)
    expect(net.height(3)).toBe(0n)
  }, 60_000)

  it('halts without forking with two silent, and resumes (the silent catch up) when they return', async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= 2n))).toBe(true)
    net.silent.add(2)
    net.silent.add(3)
    // Whatever was in flight lands; then no height commits for a long (virtual) time.
    await net.run(5_000)
    const stuck = net.nodes.map((n) => n.chain.head.header.number)
    await net.run(60_000)
    expect(net.nodes.map((n) => n.chain.head.header.number)).toEqual(stuck)
    const top = stuck.reduce((a, b) => (a > b ? a : b))
    const reference = await hashes(net.nodes.find((n) => n.chain.head.header.number === top) as BftNode, top)
    // No fork: every node's chain is a prefix of the longest one.
    for (const n of net.nodes) {
      const mine = await hashes(n, n.chain.head.header.number)
      expect(mine).toEqual(reference.slice(0, mine.length))
    }
    net.silent.clear()
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= top + 3n), 300_000)).toBe(
      true,
    )
    const after = await hashes(net.nodes[0] as BftNode, top + 3n)
    for (const n of net.nodes) expect(await hashes(n, top + 3n)).toEqual(after)
  }, 120_000)

  it('refuses a block whose coinbase is not the proposer, or whose parent certificate is missing', async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    expect(await net.runUntil(() => net!.height(0) >= 3n)).toBe(true)
    const node0 = net.nodes[0] as BftNode
    const b2 = (await node0.chain.getBlockByNumber(2n)) as NonNullable<
      Awaited<ReturnType<typeof node0.chain.getBlockByNumber>>
    >
    const b1 = (await node0.chain.getBlockByNumber(1n)) as typeof b2
    const schedule = new ValidatorSchedule(node0.engine.validators.at(1).validators)
    const rules = bftChainRules({ chainId: 1337n, validators: schedule })
    const ctx = headerContext(node0.chain)
    await expect(rules.validateHeader(b2.header, b1.header, ctx)).resolves.toBeUndefined()
    const wrongCoinbase = createBlockHeader(
      { ...b2.header.toJSON(), coinbase: `0x${'11'.repeat(20)}` },
      { common: b2.header.common, skipConsensusFormatValidation: true },
    )
    await expect(rules.validateHeader(wrongCoinbase, b1.header, ctx)).rejects.toThrow(/not the proposer/)
    const noCert = createBlockHeader(
      { ...b2.header.toJSON(), extraData: '0xc3018080' },
      { common: b2.header.common, skipConsensusFormatValidation: true },
    )
    await expect(rules.validateHeader(noCert, b1.header, ctx)).rejects.toThrow(/certificate|extra data/)
    // A fresh node that is fed the committed blocks through the front door imports them and
    // finalizes each parent from the next block's certificate.
    const kv = new MemoryKV()
    await kv.open()
    const follower = await Chain.open(
      { genesis: net.genesis },
      { kv, engine: rules, logger: silentLogger, metrics: null, customCrypto: createCustomCrypto() },
    )
    for (const b of [b1, b2]) {
      const r = await follower.processBlock(b.serialize(), { source: 'sync' })
      expect(r.status).toBe('imported')
    }
  }, 60_000)
})

describe('BftEngine: loss and restarts', () => {
  it('commits the same chain with 20% of the messages lost (retransmission when stalled)', async () => {
    net = await BftNetwork.create({ validators: 4, loss: 0.2, seed: 7 })
    await net.start()
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= 6n), 600_000)).toBe(true)
    expect(net.stats.lost).toBeGreaterThan(0)
    const reference = await hashes(net.nodes[0] as BftNode, 6n)
    for (const n of net.nodes) expect(await hashes(n, 6n)).toEqual(reference)
  }, 120_000)

  it('a validator restarted (memory lost, store and signer state kept) rejoins; all four restarted resume from their stores', async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= 3n))).toBe(true)
    await net.restart(1)
    const h = net.height(0)
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= h + 3n))).toBe(true)
    for (const i of [0, 1, 2, 3]) await net.restart(i)
    const h2 = net.nodes.map((n) => n.chain.head.header.number).reduce((a, b) => (a > b ? a : b))
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= h2 + 3n))).toBe(true)
    const reference = await hashes(net.nodes[0] as BftNode, h2 + 3n)
    for (const n of net.nodes) expect(await hashes(n, h2 + 3n)).toEqual(reference)
  }, 120_000)

  it('a validator restarted mid-height replays its WAL: back in the same round and step, with its lock', async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= 2n))).toBe(true)
    // Two silent: the other two prevote and wait at one height.
    net.silent.add(2)
    net.silent.add(3)
    const node0 = () => net!.nodes[0] as BftNode
    expect(await net.runUntil(() => (node0().engine.snapshot()?.step ?? 0) >= 2, 60_000)).toBe(true)
    await net.run(2_000)
    const before = node0().engine.snapshot()
    expect(node0().walStorage.heights()).toContain(before?.height)
    await net.restart(0)
    expect(node0().engine.snapshot()).toEqual(before)
    net.silent.clear()
    const h = net.height(1)
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= h + 2n))).toBe(true)
    const reference = await hashes(node0(), h + 2n)
    for (const n of net.nodes) expect(await hashes(n, h + 2n)).toEqual(reference)
    // Decided heights leave the WAL.
    expect(Math.min(...node0().walStorage.heights())).toBeGreaterThan(Number(h))
  }, 120_000)

  it('refuses at the edge what does not decode or no validator of its height signed', async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    let handler: ((data: Uint8Array, from: string) => Promise<string>) | null = null
    ;(net.nodes[0] as BftNode).engine.connect({
      publish: () => {},
      setHandler: (h) => {
        handler = h
      },
    })
    const send = (bytes: Uint8Array) => (handler as NonNullable<typeof handler>)(bytes, 'peer')
    const height = (net.nodes[0] as BftNode).engine.snapshot()?.height as number
    const vote = { type: MsgType.PREVOTE, height, round: 0, blockHash: null }
    const signed = (key: Uint8Array) => ({ ...vote, signature: signDigest(voteDigest(1337n, vote), key) })
    expect(await send(Uint8Array.of(1, 2, 3))).toBe('reject')
    expect(await send(encodeWire({ kind: 'vote', vote: signed(keccak256(Uint8Array.of(9))) }, 0))).toBe('reject')
    expect(await send(encodeWire({ kind: 'vote', vote: signed(validatorKey(1)) }, 0))).toBe('accept')
    // Far ahead: not judged, ignored (the node asks for help instead).
    const ahead = { ...vote, height: height + 5 }
    const far = { ...ahead, signature: signDigest(voteDigest(1337n, ahead), keccak256(Uint8Array.of(9))) }
    expect(await send(encodeWire({ kind: 'vote', vote: far }, 0))).toBe('ignore')
  })
})

describe('BftEngine: duplicate-vote evidence', () => {
  /** The blocks of node `n` from 1 to its head that carry evidence, with the evidence. */
  async function blocksWithEvidence(n: BftNode) {
    const out: { number: bigint; evidence: DuplicateVoteEvidence[] }[] = []
    for (let h = 1n; h <= n.chain.head.header.number; h++) {
      const block = await n.chain.getBlockByNumber(h)
      const evidence = bftExtraEvidence(decodeBftExtra(block?.header.extraData as Uint8Array), 1337n)
      if (evidence.length > 0) out.push({ number: h, evidence })
    }
    return out
  }

  it("a validator's key in a second signer: the double vote is detected, gossiped, committed once in a block; forged evidence refuses the block", async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= 2n))).toBe(true)
    const node0 = net.nodes[0] as BftNode
    const key3 = validatorKey(3)
    const addr3 = (net.nodes[3] as BftNode).engine.address as Uint8Array
    // The second signer with validator 3's key prevotes another block in node 0's round; only node 0
    // hears it (the others learn of the equivocation from node 0's gossip).
    const { height, round } = node0.engine.snapshot() as { height: number; round: number }
    const vote = { type: MsgType.PREVOTE, height, round, blockHash: keccak256(Uint8Array.of(7, 7)) }
    const second = { ...vote, signature: signDigest(voteDigest(1337n, vote), key3) }
    expect(await net.deliver(0, encodeWire({ kind: 'vote', vote: second }, 0))).toBe('accept')
    // Validator 3's own prevote of that round (once the proposal is out) conflicts with it.
    expect(await net.runUntil(() => node0.engine.evidence.has(addr3, height, round, MsgType.PREVOTE), 10_000)).toBe(
      true,
    )
    await net.run(100)
    // Gossiped: every node holds it (pending, or committed already); a node holding it pending has
    // it in its store too (a peer's evidence is written before the message is accepted).
    for (const n of net.nodes) {
      expect(n.engine.evidence.has(addr3, height, round, MsgType.PREVOTE)).toBe(true)
      const stored = await n.chain.engineData.get(PENDING_EVIDENCE_KEY)
      expect(stored !== undefined).toBe(n.engine.evidence.size > 0)
    }

    // A proposer puts it in a block; every node commits that block and marks the evidence committed.
    expect(await net.runUntil(() => net!.nodes.every((n) => n.engine.evidence.size === 0), 60_000)).toBe(true)
    for (const n of net.nodes) expect(await n.chain.engineData.get(PENDING_EVIDENCE_KEY)).toBeUndefined()
    const top = net.nodes.map((n) => n.chain.head.header.number).reduce((a, b) => (a < b ? a : b))
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= top + 2n))).toBe(true)
    const carried = await blocksWithEvidence(node0)
    expect(carried.length).toBe(1)
    const [{ number, evidence }] = carried as [(typeof carried)[number]]
    expect(evidence.length).toBe(1)
    const [ev] = evidence as [DuplicateVoteEvidence]
    expect(bytesToHex(ev.validator)).toBe(bytesToHex(addr3))
    expect([ev.voteA.height, ev.voteA.round, ev.voteA.type]).toEqual([height, round, MsgType.PREVOTE])
    expect(number).toBeGreaterThanOrEqual(BigInt(height))
    const reference = await hashes(node0, top + 2n)
    for (const n of net.nodes) {
      expect(await hashes(n, top + 2n)).toEqual(reference)
      expect(n.engine.evidence.isCommitted(ev)).toBe(true)
    }

    // Import-side checks of the block carrying it.
    const b = (await node0.chain.getBlockByNumber(number)) as NonNullable<
      Awaited<ReturnType<typeof node0.chain.getBlockByNumber>>
    >
    const parent = (await node0.chain.getBlockByNumber(number - 1n)) as typeof b
    const ctx = headerContext(node0.chain)
    const schedule = new ValidatorSchedule(node0.engine.validators.at(1).validators)
    const freshRules = () =>
      bftChainRules({
        chainId: 1337n,
        validators: schedule,
        evidence: new EvidencePool({ chainId: 1337n }, { validatorSetAt: (h) => schedule.at(h) }),
      })
    // A node that has not seen it committed accepts it; a node that has (it is in a block already)
    // refuses it in a later block, and not in that block itself, checked again (a range sync and the
    // engine importing it at once: issue 66 — it was remembered bad, with every block after it).
    await expect(freshRules().validateHeader(b.header, parent.header, ctx)).resolves.toBeUndefined()
    await expect(node0.engine.validateHeader(b.header, parent.header, ctx)).resolves.toBeUndefined()
    const child = (await node0.chain.getBlockByNumber(number + 1n)) as typeof b
    const again = createBlockHeader(
      {
        ...child.header.toJSON(),
        extraData: bytesToHex(
          encodeBftExtra({ ...decodeBftExtra(child.header.extraData), evidence: encodeEvidenceList([ev]) }),
        ),
      },
      { common: child.header.common, skipConsensusFormatValidation: true },
    )
    await expect(node0.engine.validateHeader(again, b.header, ctx)).rejects.toThrow(/already committed/)
    // Without an evidence pool, a block carrying evidence cannot be checked: refused.
    await expect(
      bftChainRules({ chainId: 1337n, validators: schedule }).validateHeader(b.header, parent.header, ctx),
    ).rejects.toThrow(/no evidence pool/)
    const withEvidence = (list: DuplicateVoteEvidence[]) => {
      const extra = decodeBftExtra(b.header.extraData)
      return createBlockHeader(
        {
          ...b.header.toJSON(),
          extraData: bytesToHex(encodeBftExtra({ ...extra, evidence: encodeEvidenceList(list) })),
        },
        { common: b.header.common, skipConsensusFormatValidation: true },
      )
    }
    const refused = (list: DuplicateVoteEvidence[]) =>
      expect(freshRules().validateHeader(withEvidence(list), parent.header, ctx)).rejects.toThrow(
        expect.objectContaining({ code: 'CONSENSUS_BFT_INVALID_HEADER', fault: 'caller' }),
      )
    // Forged: the second vote signed by a key that is not validator 3's.
    const outsiderKey = keccak256(Uint8Array.of(9))
    const otherVote = { ...vote, blockHash: keccak256(Uint8Array.of(8)) }
    const forgedB = { ...otherVote, signature: signDigest(voteDigest(1337n, otherVote), outsiderKey) }
    await refused([duplicateVoteEvidence(addr3, ev.voteA, forgedB)])
    // Not an equivocation: the same vote twice.
    await refused([{ validator: addr3, voteA: ev.voteA, voteB: ev.voteA }])
    // Evidence signed by a key outside the validator set (an outsider equivocating).
    const outVote = (h: Uint8Array) => {
      const v = { ...vote, blockHash: h }
      return { ...v, signature: signDigest(voteDigest(1337n, v), outsiderKey) }
    }
    await refused([
      duplicateVoteEvidence(
        new Uint8Array(20),
        outVote(keccak256(Uint8Array.of(1))),
        outVote(keccak256(Uint8Array.of(2))),
      ),
    ])
    // For a height after the block's.
    const later = (h: Uint8Array) => {
      const v = { ...vote, height: Number(number) + 1, blockHash: h }
      return { ...v, signature: signDigest(voteDigest(1337n, v), key3) }
    }
    await refused([
      duplicateVoteEvidence(addr3, later(keccak256(Uint8Array.of(1))), later(keccak256(Uint8Array.of(2)))),
    ])

    // Forged evidence over the consensus topic: rejected (the sender penalised), not pooled.
    // (Another round: a forged copy of committed evidence is only ignored, as its key is known.)
    const r5 = (h: Uint8Array, k: Uint8Array) => {
      const v = { ...vote, round: round + 5, blockHash: h }
      return { ...v, signature: signDigest(voteDigest(1337n, v), k) }
    }
    const forged = encodeEvidence({
      validator: addr3,
      voteA: r5(keccak256(Uint8Array.of(1)), key3),
      voteB: r5(keccak256(Uint8Array.of(2)), outsiderKey),
    })
    expect(await net.deliver(1, encodeWire({ kind: 'evidence', evidence: forged }, 1))).toBe('reject')
    expect(await net.deliver(1, encodeWire({ kind: 'evidence', evidence: Uint8Array.of(1, 2) }, 2))).toBe('reject')
    // The committed one again: ignored (not pooled again, not penalised).
    expect(await net.deliver(1, encodeWire({ kind: 'evidence', evidence: encodeEvidence(ev) }, 3))).toBe('ignore')
    expect((net.nodes[1] as BftNode).engine.evidence.size).toBe(0)

    // Restarted (memory lost), a node reads the committed evidence back from its chain: it refuses
    // the evidence again in a later block (not in the block that carried it) and ignores it over the topic.
    await net.restart(2)
    const restarted = net.nodes[2] as BftNode
    expect(restarted.engine.evidence.isCommitted(ev)).toBe(true)
    await expect(restarted.engine.validateHeader(b.header, parent.header, ctx)).resolves.toBeUndefined()
    await expect(restarted.engine.validateHeader(again, b.header, ctx)).rejects.toThrow(/already committed/)
    expect(await net.deliver(2, encodeWire({ kind: 'evidence', evidence: encodeEvidence(ev) }, 4))).toBe('ignore')
    expect(restarted.engine.evidence.size).toBe(0)
  }, 120_000)
  it('pending evidence survives a restart before any block carries it, and then gets into a block', async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= 2n))).toBe(true)
    // No evidence gossip: what node 0 detects stays node 0's alone (only its own proposal can carry it).
    net.dropIf = (_from, data) => decodeWire(data).kind === 'evidence'
    const node0 = () => net!.nodes[0] as BftNode
    const key3 = validatorKey(3)
    const addr3 = (net.nodes[3] as BftNode).engine.address as Uint8Array
    const { height, round } = node0().engine.snapshot() as { height: number; round: number }
    const vote = { type: MsgType.PREVOTE, height, round, blockHash: keccak256(Uint8Array.of(7, 7)) }
    const second = { ...vote, signature: signDigest(voteDigest(1337n, vote), key3) }
    expect(await net.deliver(0, encodeWire({ kind: 'vote', vote: second }, 0))).toBe('accept')
    expect(await net.runUntil(() => node0().engine.evidence.has(addr3, height, round, MsgType.PREVOTE), 10_000)).toBe(
      true,
    )
    // In the store as soon as it is detected.
    expect(await node0().chain.engineData.get(PENDING_EVIDENCE_KEY)).toBeDefined()
    // Node 0 commits the height (its WAL no longer holds the double vote: a replay cannot find it
    // again), and is restarted before the next block is built.
    expect(await net.runUntil(() => net!.height(0) >= BigInt(height))).toBe(true)
    expect(Math.min(...node0().walStorage.heights())).toBeGreaterThan(height)
    for (const n of net.nodes) expect(await blocksWithEvidence(n)).toEqual([])
    for (const n of net.nodes.slice(1)) expect(n.engine.evidence.size).toBe(0)
    await net.restart(0)
    expect(node0().engine.evidence.size).toBe(1)
    expect(node0().engine.evidence.has(addr3, height, round, MsgType.PREVOTE)).toBe(true)

    // Node 0's next proposal carries it; every node commits it.
    expect(
      await net.runUntil(
        () => net!.nodes.every((n) => n.engine.evidence.has(addr3, height, round, MsgType.PREVOTE)),
        60_000,
      ),
    ).toBe(true)
    const carried = await blocksWithEvidence(node0())
    expect(carried.length).toBe(1)
    const [{ number, evidence }] = carried as [(typeof carried)[number]]
    expect(bytesToHex(evidence[0]?.validator as Uint8Array)).toBe(bytesToHex(addr3))
    const block = await node0().chain.getBlockByNumber(number)
    expect(bytesToHex(block?.header.coinbase.bytes as Uint8Array)).toBe(
      bytesToHex(node0().engine.address as Uint8Array),
    )
    for (const n of net.nodes) {
      expect(await blocksWithEvidence(n)).toEqual(carried)
      expect(n.engine.evidence.isCommitted(evidence[0] as DuplicateVoteEvidence)).toBe(true)
    }
    // Committed: the stored pending list is empty, and a second restart does not bring it back.
    expect(await node0().chain.engineData.get(PENDING_EVIDENCE_KEY)).toBeUndefined()
    await net.restart(0)
    expect(node0().engine.evidence.size).toBe(0)
    // A stored list that still names it (a crash between the block and the rewrite): skipped at
    // start as committed, and the stored list rewritten.
    await net.restart(0, (old) => old.chain.engineData.put(PENDING_EVIDENCE_KEY, encodeEvidenceList(evidence)))
    expect(node0().engine.evidence.size).toBe(0)
    expect(await node0().chain.engineData.get(PENDING_EVIDENCE_KEY)).toBeUndefined()
  }, 120_000)
})
