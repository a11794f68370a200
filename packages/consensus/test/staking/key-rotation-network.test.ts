// A validator rotates its consensus key with a transaction (Staking.rotateConsensusKey) in the
// seeded in-process BFT network, under a stream of transfers: the contract swaps the keys in the
// block's set update, every engine's set has the new key from that block + 2, the rotating node
// (configured with its next key) signs with the old key below that height and the new one from it,
// no height is skipped or missed by it, and a vote by the old key after the switch is refused.
import { STAKING_ADDRESS, staking } from '@cairn/contracts'
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex, equalsBytes, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { type Abi, encodeFunctionData, type Hex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { ADDRS, KEYS, transfer } from '../../../chain/test/helpers.ts'
import {
  createVerifier,
  decodeBftExtra,
  decodeWire,
  encodeWire,
  MsgType,
  rotationProof,
  signDigest,
  voteDigest,
} from '../../src/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

const lower = (a: Uint8Array) => bytesToHex(a).toLowerCase()

describe('consensus key rotation through the staking contract', () => {
  it('one validator rotates under load: no missed height, certificates carry the new key from H+2, the old key is refused', async () => {
    const ROTATING = 1
    const oldKey = validatorKey(ROTATING)
    const newKey = keccak256(new TextEncoder().encode('cairn-bft-test-rotated-1'))
    const oldAddr = privateKeyToAddress(oldKey)
    const newAddr = privateKeyToAddress(newKey)
    // Every vote and proposal node 1 publishes, with its height and signer.
    const verifier = createVerifier(1337n)
    const published: { height: number; signer: Uint8Array | null }[] = []
    net = await BftNetwork.create({
      validators: 4,
      // A long epoch: the swap happens out of the boundary, because the rotation asks for it.
      staking: { params: ['staking.epochLength=1000'] },
      nextKeys: (i) => (i === ROTATING ? [newKey] : undefined),
      onPublish: (from, data) => {
        if (from !== ROTATING) return
        const msg = decodeWire(data)
        if (msg.kind === 'vote') published.push({ height: msg.vote.height, signer: verifier.voteSigner(msg.vote) })
        if (msg.kind === 'proposal')
          published.push({ height: msg.proposal.height, signer: verifier.proposalSigner(msg.proposal) })
      },
    })
    await net.start()
    const n0 = net.nodes[0] as BftNode
    expect(await net.runUntil(() => net?.nodes.every((n) => n.chain.head.header.number >= 3n) ?? false)).toBe(true)

    // Load: 40 transfers, then the rotation among them.
    const common = n0.chain.common
    const load = Array.from({ length: 40 }, (_, i) =>
      transfer(common, KEYS[2] as Uint8Array, BigInt(i), ADDRS[0] as Hex, 1n),
    )
    const { proof } = rotationProof(1337n, hexToBytes(STAKING_ADDRESS), oldAddr, newKey)
    const rotate = transfer(common, oldKey, 0n, STAKING_ADDRESS as Hex, 0n, {
      data: hexToBytes(
        encodeFunctionData({
          abi: staking.abi as Abi,
          functionName: 'rotateConsensusKey',
          args: [bytesToHex(newAddr), bytesToHex(proof)],
        }),
      ),
      gasLimit: 500_000n,
    })
    for (const n of net.nodes)
      for (const tx of [...load.slice(0, 20), rotate, ...load.slice(20)]) await n.pool.add(tx, { source: 'local' })

    const hasNew = () => n0.engine.validatorsAt(Number(n0.chain.head.header.number) + 1).indexOf(newAddr) >= 0
    expect(await net.runUntil(hasNew, 60_000)).toBe(true)
    const switched = Number(n0.chain.head.header.number)
    expect(
      await net.runUntil(
        () => net?.nodes.every((n) => n.chain.head.header.number >= BigInt(switched + 6)) ?? false,
        60_000,
      ),
    ).toBe(true)
    const head = Number(n0.chain.head.header.number)

    // The block that carried the rotation, and the height the new key takes over.
    let rotatedIn = 0
    for (let h = 1; h <= head && rotatedIn === 0; h++) {
      const block = (await n0.chain.getBlockByNumber(BigInt(h))) as Block
      if (block.transactions.some((t) => equalsBytes(t.hash(), rotate.hash()))) rotatedIn = h
    }
    expect(rotatedIn).toBeGreaterThan(0)
    const effective = rotatedIn + 2
    for (const n of net.nodes) {
      const before = n.engine.validatorsAt(effective - 1)
      const after = n.engine.validatorsAt(effective)
      expect(before.indexOf(oldAddr)).toBeGreaterThanOrEqual(0)
      expect(before.indexOf(newAddr)).toBe(-1)
      expect(after.indexOf(oldAddr)).toBe(-1)
      expect(after.indexOf(newAddr)).toBeGreaterThanOrEqual(0)
      // a swap at equal power, the rest of the set unchanged
      expect(after.validators.find((v) => equalsBytes(v.address, newAddr))?.votingPower).toBe(
        before.validators.find((v) => equalsBytes(v.address, oldAddr))?.votingPower,
      )
      expect(after.size).toBe(before.size)
    }

    // Every height has its block, every certificate its height; node 1 signs (nearly) every one,
    // with the key of the height; no certificate from the switch on names the old key.
    let certs = 0
    let signedByRotating = 0
    for (let h = 2; h <= head; h++) {
      const cert = decodeBftExtra(
        ((await n0.chain.getBlockByNumber(BigInt(h))) as Block).header.extraData,
      ).parentCertificate
      expect(cert?.height, `block ${h} certifies its parent`).toBe(h - 1)
      if (cert === null || cert.height < 3) continue
      certs++
      const set = n0.engine.validatorsAt(cert.height)
      const signers = cert.signatures.map((s) => set.validators[s.validatorIndex]?.address as Uint8Array)
      const expected = cert.height >= effective ? newAddr : oldAddr
      if (signers.some((a) => equalsBytes(a, expected))) signedByRotating++
      if (cert.height >= effective) expect(signers.some((a) => equalsBytes(a, oldAddr))).toBe(false)
    }
    expect(signedByRotating).toBeGreaterThanOrEqual(certs - 1)
    expect(
      decodeBftExtra(((await n0.chain.getBlockByNumber(BigInt(head))) as Block).header.extraData).parentCertificate
        ?.signatures.length,
    ).toBeGreaterThanOrEqual(3)

    // Node 1 never signed with a key outside the height's set.
    expect(published.length).toBeGreaterThan(0)
    for (const p of published) {
      expect(lower(p.signer as Uint8Array), `height ${p.height}`).toBe(lower(p.height >= effective ? newAddr : oldAddr))
    }
    expect(published.some((p) => p.height >= effective)).toBe(true)
    expect(published.some((p) => p.height < effective)).toBe(true)

    // A vote by the old key at the current height is refused by every node (not in its set).
    const height = (n0.engine.snapshot()?.height ?? 0) as number
    const vote = { type: MsgType.PREVOTE, height, round: 0, blockHash: null }
    const byOld = { ...vote, signature: signDigest(voteDigest(1337n, vote), oldKey) }
    for (const n of net.nodes) {
      if (n.index === ROTATING) continue
      expect(await net.deliver(n.index, encodeWire({ kind: 'vote', vote: byOld }, 99))).toBe('reject')
    }

    // All transfers and the rotation landed; every node has one chain.
    const last = (await n0.chain.getBlockByNumber(BigInt(head))) as Block
    for (const n of net.nodes) {
      expect(bytesToHex(((await n.chain.getBlockByNumber(BigInt(head))) as Block).hash())).toBe(bytesToHex(last.hash()))
    }
    let included = 0
    for (let h = 1; h <= head; h++)
      included += ((await n0.chain.getBlockByNumber(BigInt(h))) as Block).transactions.length
    expect(included).toBe(41)
  }, 60_000)
})
