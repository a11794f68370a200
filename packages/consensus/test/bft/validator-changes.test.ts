/**
 * Validator-set changes through `endBlock` in the in-process network: updates returned by block H
 * take effect at H+2, a joining validator signs from there (not before), a removed one stops being
 * needed, and every node — validators, a follower, a restarted node, one that rebuilds from the
 * headers alone — holds the same schedule.
 */
import { privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import { type BlockHeader, createBlockHeader } from '@ethereumjs/block'
import { afterEach, describe, expect, it } from 'vitest'
import {
  bftChainRules,
  createVerifier,
  decodeBftExtra,
  decodeCertificate,
  decodeWire,
  encodeBftExtra,
  ValidatorSchedule,
  type ValidatorSet,
  verifyCertificate,
} from '../../src/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'
import { headerContext } from '../harness/chain-probes.ts'

const CHAIN_ID = 1337n
let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

const addr = (i: number) => privateKeyToAddress(validatorKey(i))
const hex = (a: Uint8Array) => bytesToHex(a)

function describeSet(set: ValidatorSet): string[] {
  return set.validators.map((v) => `${hex(v.address)}:${v.votingPower}:${v.proposerPriority}`)
}

function schedulesOf(n: BftNode, upTo: number): string[][] {
  return Array.from({ length: upTo }, (_, i) => describeSet(n.engine.validatorsAt(i + 1)))
}

describe('validator-set changes at H+2', () => {
  it('a validator added by block 3 signs from height 5, one removed by block 6 is not needed from height 8', async () => {
    // Nodes 0..3 are the genesis set (power 10 each); node 4 has a key but joins later; node 5 follows.
    const signedAt = new Map<string, number[]>()
    const verifier = createVerifier(CHAIN_ID)
    net = await BftNetwork.create({
      validators: 5,
      genesisValidators: 4,
      followers: 1,
      validatorUpdates: ({ header }) => {
        if (header.number === 3n) return [{ address: addr(4), power: 10n }]
        if (header.number === 6n) return [{ address: addr(0), power: 0n }]
        return undefined
      },
      onPublish: (from, data) => {
        const msg = decodeWire(data)
        if (msg.kind !== 'vote') return
        const signer = verifier.voteSigner(msg.vote)
        if (signer === null) return
        const list = signedAt.get(`${from}/${hex(signer)}`) ?? []
        list.push(msg.vote.height)
        signedAt.set(`${from}/${hex(signer)}`, list)
      },
    })
    await net.start()
    const all = () => net as BftNetwork
    // The updates record of block 3 is kept while no child of it is final (block 4 carries them).
    const record = async (n: BftNode, h: bigint) =>
      n.chain.engineData.get(`bft/validator-updates/${hex((await n.chain.getCanonicalHash(h)) as Uint8Array)}`)
    expect(await net.runUntil(() => all().height(2) >= 3n)).toBe(true)
    expect(net.height(2)).toBe(3n)
    expect(await record(net.nodes[2] as BftNode, 3n)).toBeDefined()
    expect(await net.runUntil(() => all().nodes.every((n) => n.chain.head.header.number >= 7n))).toBe(true)
    // From height 8 the set is {1, 2, 3, 4}: with 0 and 1 cut off, 2, 3 and 4 hold 30 of 40 (> 2/3);
    // in the set of heights 5..7 ({0..4}) they held 30 of 50 and could not commit.
    net.silent.add(0)
    net.silent.add(1)
    expect(await net.runUntil(() => [2, 3, 4, 5].every((i) => all().height(i) >= 11n))).toBe(true)

    const node2 = net.nodes[2] as BftNode
    const members = (h: number) => node2.engine.validatorsAt(h).validators.map((v) => hex(v.address))
    for (const h of [1, 2, 3, 4]) expect(members(h).sort()).toEqual([0, 1, 2, 3].map((i) => hex(addr(i))).sort())
    for (const h of [5, 6, 7]) expect(members(h).sort()).toEqual([0, 1, 2, 3, 4].map((i) => hex(addr(i))).sort())
    for (const h of [8, 9, 10, 11]) expect(members(h).sort()).toEqual([1, 2, 3, 4].map((i) => hex(addr(i))).sort())

    // Node 4 voted from height 5 on, never before; node 0's votes stopped mattering at 8.
    const heights4 = signedAt.get(`4/${hex(addr(4))}`) ?? []
    expect(heights4.length).toBeGreaterThan(0)
    expect(Math.min(...heights4)).toBe(5)

    // Block 4 carries block 3's updates, block 7 block 6's; the others none.
    for (let h = 2n; h <= 11n; h++) {
      const block = await node2.chain.getBlockByNumber(h)
      const extra = decodeBftExtra(block?.header.extraData as Uint8Array)
      const carried = (extra.validatorChanges ?? []).map((c) => `${hex(c.address)}:${c.votingPower}`)
      if (h === 4n) expect(carried).toEqual([`${hex(addr(4))}:10`])
      else if (h === 7n) expect(carried).toEqual([`${hex(addr(0))}:0`])
      else expect(carried).toEqual([])
    }
    // Every certificate verifies against its height's set; node 4 signs some from height 5; the
    // certificate of height 9 (nodes 2, 3, 4) does not verify against the old set.
    let fourSigned = 0
    for (let h = 1; h <= 10; h++) {
      const block = await node2.chain.getBlockByNumber(BigInt(h))
      const cert = decodeCertificate((await node2.chain.getFinality(block?.hash() as Uint8Array)) as Uint8Array)
      const set = node2.engine.validatorsAt(h)
      verifyCertificate(cert, set, CHAIN_ID)
      const signers = cert.signatures.map((s) => hex((set.at(s.validatorIndex) as { address: Uint8Array }).address))
      if (signers.includes(hex(addr(4)))) fourSigned++
      if (h >= 9) expect(() => verifyCertificate(cert, node2.engine.validatorsAt(7), CHAIN_ID)).toThrow()
    }
    expect(fourSigned).toBeGreaterThan(0)

    // Every running node, the follower included, holds the same schedule.
    const reference = schedulesOf(node2, 12)
    for (const i of [3, 4, 5]) expect(schedulesOf(net.nodes[i] as BftNode, 12)).toEqual(reference)
    // The same schedule from the headers alone (what a light client does).
    const fromHeaders = new ValidatorSchedule([0, 1, 2, 3].map((i) => ({ address: addr(i), votingPower: 10n })))
    for (let h = 1n; h <= node2.chain.head.header.number; h++) {
      const block = await node2.chain.getBlockByNumber(h)
      fromHeaders.recordHeader(Number(h), decodeBftExtra(block?.header.extraData as Uint8Array).validatorChanges ?? [])
    }
    expect(Array.from({ length: 12 }, (_, i) => describeSet(fromHeaders.at(i + 1)))).toEqual(reference)

    // A block must carry exactly its parent's updates: block 4 without them, or block 5 with some, is refused.
    const ctx = headerContext(node2.chain)
    const header = async (h: bigint) => (await node2.chain.getBlockByNumber(h))?.header as BlockHeader
    const withChanges = (hd: BlockHeader, validatorChanges: { address: Uint8Array; votingPower: bigint }[]) => {
      const extra = decodeBftExtra(hd.extraData)
      return createBlockHeader(
        { ...hd.toJSON(), extraData: bytesToHex(encodeBftExtra({ ...extra, validatorChanges })) },
        { common: hd.common, skipConsensusFormatValidation: true },
      )
    }
    const [h3, h4, h5] = [await header(3n), await header(4n), await header(5n)]
    await expect(node2.engine.validateHeader(h4, h3, ctx)).resolves.toBeUndefined()
    await expect(node2.engine.validateHeader(withChanges(h4, []), h3, ctx)).rejects.toThrow(/validator changes/)
    await expect(
      node2.engine.validateHeader(withChanges(h4, [{ address: addr(4), votingPower: 11n }]), h3, ctx),
    ).rejects.toThrow(/validator changes/)
    await expect(
      node2.engine.validateHeader(withChanges(h5, [{ address: addr(1), votingPower: 0n }]), h4, ctx),
    ).rejects.toThrow(/validator changes/)

    // A restarted node rebuilds the same schedule: from its stored record (node 3), and from the
    // headers when the record is gone (node 5, the follower).
    await net.restart(3)
    expect(schedulesOf(net.nodes[3] as BftNode, 12)).toEqual(reference)
    await net.restart(5, async (old) => {
      await old.chain.engineData.del('bft/validator-schedule')
      expect(await old.chain.engineData.get('bft/validator-schedule')).toBeUndefined()
    })
    expect(schedulesOf(net.nodes[5] as BftNode, 12)).toEqual(reference)

    // Pruned: the records of blocks 3 and 6 (their children, 4 and 7, are final and carry them) on
    // every node that went on, the restarted ones included; the rule checks above read them from
    // blocks 4 and 7 then.
    for (const i of [2, 3, 4, 5]) {
      for (const h of [3n, 6n]) expect(await record(net.nodes[i] as BftNode, h), `node ${i} block ${h}`).toBeUndefined()
    }
  }, 120_000)

  it('a restarted node imports blocks of a changed set before its engine starts (a range sync may come first)', async () => {
    // As in a node process: the network starts (and a range sync with it) before the engine does.
    // The rules must judge those blocks by the schedule the chain holds, not the genesis set alone.
    net = await BftNetwork.create({
      validators: 5,
      genesisValidators: 4,
      validatorUpdates: ({ header }) => {
        if (header.number === 3n) return [{ address: addr(4), power: 10n }]
        if (header.number === 6n) return [{ address: addr(0), power: 0n }]
        return undefined
      },
    })
    await net.start()
    const n = net
    // Down once both changes are in effect (node 4 in from height 5, node 0 out from height 8).
    expect(await n.runUntil(() => n.height(3) >= 9n)).toBe(true)
    n.silent.add(3)
    const down = n.height(3)
    expect(await n.runUntil(() => n.height(2) >= down + 6n)).toBe(true)
    const node = await n.reopen(3)
    const source = n.nodes[2] as BftNode
    for (let h = down + 1n; h <= source.chain.head.header.number; h++) {
      const block = await source.chain.getBlockByNumber(h)
      const r = await node.chain.processBlock(block?.serialize() as Uint8Array, { source: 'sync', peer: 'p' })
      expect(r.status === 'error' ? `${h}: ${r.error.message}` : r.status).toBe('imported')
    }
    // A schedule this node cannot read back is its own fault: the block is not judged (not bad,
    // its sender not penalised), refused as transient.
    const broken = bftChainRules({
      chainId: CHAIN_ID,
      validators: new ValidatorSchedule([0, 1, 2, 3].map((i) => ({ address: addr(i), votingPower: 10n }))),
      ready: () => Promise.reject(new Error('the store is gone')),
    })
    const [parent, child] = [await source.chain.getBlockByNumber(down), await source.chain.getBlockByNumber(down + 1n)]
    await expect(
      broken.validateHeader(child?.header as BlockHeader, parent?.header as BlockHeader, headerContext(source.chain)),
    ).rejects.toMatchObject({ code: 'CONSENSUS_BFT_SCHEDULE_UNAVAILABLE', fault: 'transient' })
    // Then the engine starts on that chain and the node takes part again.
    n.silent.delete(3)
    await node.engine.start()
    const top = n.height(2) + 3n
    expect(await n.runUntil(() => n.height(3) >= top)).toBe(true)
    expect(schedulesOf(node, Number(top))).toEqual(schedulesOf(source, Number(top)))
  }, 120_000)
})
