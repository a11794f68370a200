// Certificates of the heights a node catches up by sync (issue 48 item 6): block H+1 carries H's
// commit certificate, verified on import; the importer stores it for H and makes H final, exactly
// as a commit of the node's own would — whether the node's engine runs or not (a node's range sync
// starts before its engine), on a validator and on a follower alike. A forged one is refused.
import { Chain } from '@cairn/chain'
import { createCustomCrypto } from '@cairn/crypto'
import { MemoryKV } from '@cairn/db'
import { bytesToHex, silentLogger } from '@cairn/utils'
import { type Block, createBlockHeader } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { afterEach, describe, expect, it } from 'vitest'
import {
  bftChainRules,
  type CommitCertificate,
  decodeBftExtra,
  decodeCertificate,
  encodeBftExtra,
  encodeCertificate,
  MsgType,
  signDigest,
  ValidatorSchedule,
  voteDigest,
} from '../../src/index.ts'
import { BftNetwork, type BftNode } from '../harness/bft-network.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

/** What `cairn_getCommit` answers from the chain's `finality` bucket, in comparable form (null: none). */
async function commitOf(
  n: BftNode,
  height: bigint,
): Promise<{ blockHash: string; round: number; signers: number[] } | null> {
  const hash = await n.chain.getCanonicalHash(height)
  const bytes = hash === undefined ? undefined : await n.chain.getFinality(hash)
  if (bytes === undefined || bytes.length === 0) return null
  const cert = decodeCertificate(bytes)
  expect(cert.height).toBe(Number(height))
  return {
    blockHash: bytesToHex(cert.blockHash),
    round: cert.round,
    signers: cert.signatures.map((s) => s.validatorIndex),
  }
}

const blockAt = async (n: BftNode, height: bigint): Promise<Block> => (await n.chain.getBlockByNumber(height)) as Block

describe('certificates of the heights caught up by sync', () => {
  it('a restarted validator and a restarted follower store them as the validators that committed', async () => {
    net = await BftNetwork.create({ validators: 4, followers: 1 })
    await net.start()
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= 2n))).toBe(true)
    // Validator 3 and the follower (node 4) drop out; the other three commit six more heights.
    net.silent.add(3)
    net.silent.add(4)
    const left = net.height(3)
    expect(await net.runUntil(() => net!.height(0) >= left + 6n)).toBe(true)
    const node0 = net.nodes[0] as BftNode
    const top = net.height(0)
    const sync = async (chain: BftNode['chain'], h: bigint) => {
      const r = await chain.processBlock((await blockAt(node0, h)).serialize(), { source: 'sync', peer: 'p0' })
      expect(r.status, `block ${h}`).toBe('imported')
    }
    // Each comes back as a node does: a range sync imports what it missed before its engine runs
    // (p2p starts first), and goes on importing once it runs (here: the newest block).
    for (const i of [3, 4]) {
      await net.restart(i, async (old) => {
        for (let h = old.chain.head.header.number + 1n; h < top; h++) await sync(old.chain, h)
        net!.silent.delete(i)
      })
      const node = net.nodes[i] as BftNode
      await sync(node.chain, top)
      await net.settle()
      // Every synced block proved its parent final: the certificate it carried, stored for the parent.
      expect((await node.chain.checkpoint('finalized')).header.number).toBe(top - 1n)
      for (let h = left + 1n; h < top; h++) {
        expect(await commitOf(node, h), `node ${i}, height ${h}`).toEqual(await commitOf(node0, h))
      }
    }
    // Back in the network, both catch up to the others; every height they missed answers as node 0's.
    expect(await net.runUntil(() => net!.nodes.every((n) => n.chain.head.header.number >= top + 2n))).toBe(true)
    for (const i of [3, 4]) {
      for (let h = left + 1n; h <= top; h++) {
        const mine = await commitOf(net.nodes[i] as BftNode, h)
        expect(mine, `node ${i}, height ${h}`).not.toBeNull()
        expect(mine).toEqual(await commitOf(node0, h))
        expect(mine?.signers).toEqual([0, 1, 2])
      }
    }
  }, 60_000)

  it('a synced block with a forged parent certificate is refused (the peer penalised) and stores nothing', async () => {
    net = await BftNetwork.create({ validators: 4 })
    await net.start()
    expect(await net.runUntil(() => net!.height(0) >= 3n)).toBe(true)
    const node0 = net.nodes[0] as BftNode
    const [b1, b2] = [await blockAt(node0, 1n), await blockAt(node0, 2n)]
    const extra = decodeBftExtra(b2.header.extraData)
    const cert = extra.parentCertificate as CommitCertificate
    // A follower's chain (the BFT rules, no engine running) fed block 1, then forgeries of block 2.
    const kv = new MemoryKV()
    await kv.open()
    const clock = net.clock
    const follower = await Chain.open(
      { genesis: net.genesis },
      {
        kv,
        engine: bftChainRules({
          chainId: 1337n,
          validators: new ValidatorSchedule(node0.engine.validators.at(1).validators),
        }),
        logger: silentLogger,
        metrics: null,
        customCrypto: createCustomCrypto(),
        now: () => clock.seconds(),
      },
    )
    expect((await follower.processBlock(b1.serialize(), { source: 'sync', peer: 'p' })).status).toBe('imported')
    const withCertificate = (forged: CommitCertificate): Uint8Array => {
      const header = createBlockHeader(
        { ...b2.header.toJSON(), extraData: encodeBftExtra({ ...extra, parentCertificate: forged }) },
        { common: b2.header.common, skipConsensusFormatValidation: true },
      )
      const raw = b2.raw() as unknown[]
      return RLP.encode([header.raw(), ...raw.slice(1)] as never)
    }
    const outsider = new Uint8Array(32).fill(7)
    const digest = voteDigest(1337n, {
      type: MsgType.PRECOMMIT,
      height: 1,
      round: cert.round,
      blockHash: cert.blockHash,
    })
    const forgeries: [string, CommitCertificate][] = [
      // A signature by a key that is not the validator at its index.
      [
        'a signer who is not the validator',
        {
          ...cert,
          signatures: cert.signatures.map((s, i) => (i === 0 ? { ...s, signature: signDigest(digest, outsider) } : s)),
        },
      ],
      // Genuine signatures, but only 2 of 4 equal powers: not more than 2/3.
      ['too little power', { ...cert, signatures: cert.signatures.slice(0, 2) }],
      // Genuine signatures of block 1's precommits, claimed for another block.
      ['another block', { ...cert, blockHash: new Uint8Array(32).fill(1) }],
    ]
    for (const [what, forged] of forgeries) {
      const r = await follower.processBlock(withCertificate(forged), { source: 'sync', peer: 'p' })
      expect(r.status, what).toBe('error')
      if (r.status !== 'error') continue
      expect(r.error.action, what).toBe('reject')
      expect(r.error.penalize, what).toBe(true)
      expect(r.error.message, what).toMatch(/certificate/)
    }
    expect(await follower.getFinality(b1.hash())).toBeUndefined()
    expect((await follower.checkpoint('finalized')).header.number).toBe(0n)
    // The genuine block 2: block 1 final with the certificate block 2 carries.
    expect((await follower.processBlock(b2.serialize(), { source: 'sync', peer: 'p' })).status).toBe('imported')
    expect(await follower.getFinality(b1.hash())).toEqual(encodeCertificate(cert))
    expect((await follower.checkpoint('finalized')).header.number).toBe(1n)
  }, 60_000)
})
