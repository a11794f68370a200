// A consensus key rotation on a hybrid chain (secp256k1 ‖ ML-DSA-65) in the seeded in-process
// network, under a stream of transfers: the validator sends `rotateConsensusKey(newAddr, proof,
// pqPublicKey)`, the contract stores the new key's ML-DSA key, the set update swaps old → new with
// the key in its change record (`[address, power, pqPublicKey]`, as a joiner's), every engine has
// the new key from that block + 2, the rotating node (its signer holding both hybrid keys) signs
// each height with the key of its set and misses none, the new key's votes are in the certificates
// from H+2, votes by the old key (or by the new secp256k1 key with the old ML-DSA part) are refused
// after it, and a light client rebuilding the sets from the genesis and the headers alone sees the
// new ML-DSA key and verifies every certificate. Under ml-dsa-65 the seed alone rotates: the new
// consensus address is its pqAddress, the proof empty, and the same holds.
import { STAKING_ADDRESS, staking } from '@cairn/contracts'
import { keccak256, privateKeyToAddress } from '@cairn/crypto'
import { rawDigestKey } from '@cairn/keys'
import { bytesToHex, equalsBytes, hexToBytes } from '@cairn/utils'
import type { Block } from '@ethereumjs/block'
import { type Abi, encodeFunctionData, type Hex } from 'viem'
import { afterEach, describe, expect, it } from 'vitest'
import { ADDRS, KEYS as TX_KEYS, transfer } from '../../../chain/test/helpers.ts'
import {
  createSchemeVerifier,
  type HybridSignatureParts,
  joinHybridSignature,
  pqAddress,
  splitHybridSignature,
  verifySchemeCertificate,
} from '../../src/bft/pq/index.ts'
import {
  decodeBftExtra,
  decodeWire,
  encodeWire,
  genesisStakingSet,
  MemorySignerState,
  MsgType,
  pqRotationArgs,
  ValidatorSchedule,
  ValidatorSigner,
  voteDigest,
} from '../../src/index.ts'
import { hybridDigestKey, mlDsaDigestKey, type SchemeDigestKey } from '../../src/privval/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'

const CHAIN_ID = 1337n
const ROTATING = 1
const utf8 = (s: string) => new TextEncoder().encode(s)
const seedOf = (i: number) => keccak256(utf8(`cairn-bft-pq-test-${i}`))
const KEYS: SchemeDigestKey[] = [0, 1, 2, 3].map((i) =>
  hybridDigestKey({ secpKey: rawDigestKey(validatorKey(i)), pqSeed: seedOf(i), signing: 'deterministic' }),
)
const NEW_SECP = keccak256(utf8('cairn-bft-test-rotated-pq-1'))
const NEW_SEED = keccak256(utf8('cairn-bft-pq-test-rotated-1'))
const NEW_KEY = hybridDigestKey({ secpKey: rawDigestKey(NEW_SECP), pqSeed: NEW_SEED, signing: 'deterministic' })
const OLD_KEY = KEYS[ROTATING] as SchemeDigestKey
const lower = (a: Uint8Array) => bytesToHex(a).toLowerCase()
const parts = (signature: Uint8Array) => splitHybridSignature(signature) as HybridSignatureParts

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

describe('consensus key rotation under the hybrid scheme', () => {
  it('rotates under load: no missed height, the new ML-DSA key in the change record, the certificates and the headers; the old key refused', async () => {
    const published: { height: number; data: Uint8Array }[] = []
    net = await BftNetwork.create({
      validators: 4,
      // A long epoch: the swap happens out of the boundary, because the rotation asks for it.
      staking: { params: ['staking.epochLength=1000'] },
      signer: (i) =>
        new ValidatorSigner(
          { chainId: CHAIN_ID, key: KEYS[i] as SchemeDigestKey, ...(i === ROTATING ? { nextKeys: [NEW_KEY] } : {}) },
          { state: new MemorySignerState() },
        ),
      bft: (vals) => ({
        signatureScheme: 'hybrid',
        validators: vals.map((v, i) => ({ ...v, pqPublicKey: bytesToHex(KEYS[i]?.pqPublicKey as Uint8Array) })),
      }),
      onPublish: (from, data) => {
        if (from !== ROTATING) return
        const msg = decodeWire(data, 'hybrid')
        if (msg.kind === 'vote') published.push({ height: msg.vote.height, data })
        if (msg.kind === 'proposal') published.push({ height: msg.proposal.height, data })
      },
    })
    await net.start()
    const n0 = net.nodes[0] as BftNode
    expect(await net.runUntil(() => net?.nodes.every((n) => n.chain.head.header.number >= 2n) ?? false)).toBe(true)

    // Load: 20 transfers, then the rotation among them.
    const common = n0.chain.common
    const load = Array.from({ length: 20 }, (_, i) =>
      transfer(common, TX_KEYS[2] as Uint8Array, BigInt(i), ADDRS[0] as Hex, 1n),
    )
    const operator = OLD_KEY.address
    const args = pqRotationArgs(CHAIN_ID, hexToBytes(STAKING_ADDRESS), operator, {
      scheme: 'hybrid',
      key: NEW_SECP,
      pqSeed: NEW_SEED,
    })
    expect(lower(args.newConsensusAddr)).toBe(lower(NEW_KEY.address))
    const rotate = transfer(common, validatorKey(ROTATING), 0n, STAKING_ADDRESS as Hex, 0n, {
      data: hexToBytes(
        encodeFunctionData({
          abi: staking.abi as Abi,
          functionName: 'rotateConsensusKey',
          args: [bytesToHex(args.newConsensusAddr), bytesToHex(args.proof), bytesToHex(args.pqPublicKey)],
        }),
      ),
      gasLimit: 3_000_000n,
    })
    for (const n of net.nodes)
      for (const tx of [...load.slice(0, 10), rotate, ...load.slice(10)]) await n.pool.add(tx, { source: 'local' })

    const newAddr = NEW_KEY.address
    const oldAddr = OLD_KEY.address
    const hasNew = () => n0.engine.validatorsAt(Number(n0.chain.head.header.number) + 1).indexOf(newAddr) >= 0
    expect(await net.runUntil(hasNew, 60_000)).toBe(true)
    const switched = Number(n0.chain.head.header.number)
    expect(
      await net.runUntil(
        () => net?.nodes.every((n) => n.chain.head.header.number >= BigInt(switched + 4)) ?? false,
        60_000,
      ),
    ).toBe(true)
    const head = Number(n0.chain.head.header.number)
    const block = async (h: number) => (await n0.chain.getBlockByNumber(BigInt(h))) as Block

    // The block that carried the rotation (its gas, from the receipts), and the height the new key takes over.
    let rotatedIn = 0
    for (let h = 1; h <= head && rotatedIn === 0; h++) {
      const b = await block(h)
      const i = b.transactions.findIndex((t) => equalsBytes(t.hash(), rotate.hash()))
      if (i < 0) continue
      rotatedIn = h
      const receipts = (await n0.chain.getReceipts(b.hash())) ?? []
      expect(receipts[i]?.status).toBe(1)
      const gas = (receipts[i]?.cumulativeGasUsed ?? 0n) - (i > 0 ? (receipts[i - 1]?.cumulativeGasUsed ?? 0n) : 0n)
      process.stdout.write(`rotateConsensusKey (hybrid, with its 1,952-byte ML-DSA key): ${gas} gas\n`)
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
      expect(lower(after.pqKeyOf(newAddr) as Uint8Array)).toBe(lower(NEW_KEY.pqPublicKey as Uint8Array))
      expect(after.validators.find((v) => equalsBytes(v.address, newAddr))?.votingPower).toBe(
        before.validators.find((v) => equalsBytes(v.address, oldAddr))?.votingPower,
      )
      expect(after.size).toBe(before.size)
    }
    // The change record (in block H+1) swaps old → new, the new one with its key, as a joiner's.
    const changes = decodeBftExtra((await block(rotatedIn + 1)).header.extraData, 'hybrid').validatorChanges ?? []
    const added = changes.find((c) => equalsBytes(c.address, newAddr))
    const removed = changes.find((c) => equalsBytes(c.address, oldAddr))
    expect(added?.pqPublicKey && lower(added.pqPublicKey)).toBe(lower(NEW_KEY.pqPublicKey as Uint8Array))
    expect(removed?.votingPower).toBe(0n)
    expect(removed?.pqPublicKey ?? null).toBeNull()

    // A light client: the genesis's staking contract, then the headers' change records alone.
    const schedule = new ValidatorSchedule(await genesisStakingSet(net.genesis, 'hybrid'), undefined, 'hybrid')
    let certs = 0
    let signedByRotating = 0
    for (let h = 2; h <= head; h++) {
      const extra = decodeBftExtra((await block(h)).header.extraData, 'hybrid')
      schedule.recordHeader(h, extra.validatorChanges ?? [])
      const cert = extra.parentCertificate
      expect(cert?.height, `block ${h} certifies its parent`).toBe(h - 1)
      if (cert === null) continue
      const set = schedule.at(cert.height)
      verifySchemeCertificate(cert, 'hybrid', set, (a) => set.pqKeyOf(a), CHAIN_ID)
      if (cert.height < 2) continue
      certs++
      const signers = cert.signatures.map((s) => set.validators[s.validatorIndex]?.address as Uint8Array)
      const expected = cert.height >= effective ? newAddr : oldAddr
      if (signers.some((a) => equalsBytes(a, expected))) signedByRotating++
      if (cert.height >= effective) expect(signers.some((a) => equalsBytes(a, oldAddr))).toBe(false)
    }
    // No missed height: node 1's precommit is in every certificate, by the key of that height.
    expect(signedByRotating).toBe(certs)
    expect(lower(schedule.at(effective).pqKeyOf(newAddr) as Uint8Array)).toBe(lower(NEW_KEY.pqPublicKey as Uint8Array))
    expect(schedule.at(effective).indexOf(oldAddr)).toBe(-1)
    expect(lower(schedule.at(effective - 1).pqKeyOf(oldAddr) as Uint8Array)).toBe(
      lower(OLD_KEY.pqPublicKey as Uint8Array),
    )

    // Node 1 signed every message with the key of its height's set, both parts (the verifier
    // checks the ML-DSA part against the key that set registers).
    const verifier = createSchemeVerifier(CHAIN_ID, 'hybrid', (h) => n0.engine.validatorsAt(h))
    expect(published.some((p) => p.height >= effective)).toBe(true)
    expect(published.some((p) => p.height < effective)).toBe(true)
    for (const p of published) {
      const msg = decodeWire(p.data, 'hybrid')
      const signer =
        msg.kind === 'vote'
          ? verifier.voteSigner(msg.vote)
          : msg.kind === 'proposal'
            ? verifier.proposalSigner(msg.proposal)
            : null
      expect(signer && lower(signer), `height ${p.height}`).toBe(lower(p.height >= effective ? newAddr : oldAddr))
    }

    // After the switch: a vote by the old key, and one by the new secp256k1 key with the old
    // ML-DSA part, are refused by every other node.
    const height = (n0.engine.snapshot()?.height ?? 0) as number
    expect(height).toBeGreaterThan(effective)
    const vote = { type: MsgType.PREVOTE, height, round: 0, blockHash: null }
    const digest = voteDigest(CHAIN_ID, vote)
    const byOld = { ...vote, signature: OLD_KEY.sign(digest) }
    const mixed = {
      ...vote,
      signature: joinHybridSignature(parts(NEW_KEY.sign(digest)).secp, parts(OLD_KEY.sign(digest)).pq),
    }
    for (const n of net.nodes) {
      if (n.index === ROTATING) continue
      expect(await net.deliver(n.index, encodeWire({ kind: 'vote', vote: byOld }, 99))).toBe('reject')
      expect(await net.deliver(n.index, encodeWire({ kind: 'vote', vote: mixed }, 98))).toBe('reject')
    }

    // Every transfer and the rotation landed; one chain.
    const last = await block(head)
    for (const n of net.nodes) {
      expect(bytesToHex(((await n.chain.getBlockByNumber(BigInt(head))) as Block).hash())).toBe(bytesToHex(last.hash()))
    }
    let included = 0
    for (let h = 1; h <= head; h++) included += (await block(h)).transactions.length
    expect(included).toBe(21)
  }, 60_000)
  it('ml-dsa-65: the seed alone rotates to its pqAddress; the new key signs from H+2 and the headers carry it', async () => {
    const seed = (i: number | string) => keccak256(utf8(`cairn-bft-mldsa-rotation-${i}`))
    const keys = [0, 1, 2, 3].map((i) => mlDsaDigestKey({ pqSeed: seed(i), signing: 'deterministic' }))
    const next = mlDsaDigestKey({ pqSeed: seed('next'), signing: 'deterministic' })
    const old = keys[ROTATING] as SchemeDigestKey
    net = await BftNetwork.create({
      validators: 4,
      staking: { params: ['staking.epochLength=1000'] },
      signer: (i) =>
        new ValidatorSigner(
          { chainId: CHAIN_ID, key: keys[i] as SchemeDigestKey, ...(i === ROTATING ? { nextKeys: [next] } : {}) },
          { state: new MemorySignerState() },
        ),
      bft: () => ({
        signatureScheme: 'ml-dsa-65',
        validators: keys.map((k) => ({
          address: bytesToHex(k.address),
          power: 10,
          pqPublicKey: bytesToHex(k.pqPublicKey as Uint8Array),
        })),
      }),
    })
    await net.start()
    const n0 = net.nodes[0] as BftNode
    expect(await net.runUntil(() => n0.chain.head.header.number >= 2n)).toBe(true)
    // The operator is node 1's secp256k1 account; the new consensus address is the seed's.
    const args = pqRotationArgs(CHAIN_ID, hexToBytes(STAKING_ADDRESS), privateKeyToAddress(validatorKey(ROTATING)), {
      scheme: 'ml-dsa-65',
      pqSeed: seed('next'),
    })
    expect(lower(args.newConsensusAddr)).toBe(lower(pqAddress(next.pqPublicKey as Uint8Array)))
    const rotate = transfer(n0.chain.common, validatorKey(ROTATING), 0n, STAKING_ADDRESS as Hex, 0n, {
      data: hexToBytes(
        encodeFunctionData({
          abi: staking.abi as Abi,
          functionName: 'rotateConsensusKey',
          args: [bytesToHex(args.newConsensusAddr), bytesToHex(args.proof), bytesToHex(args.pqPublicKey)],
        }),
      ),
      gasLimit: 3_000_000n,
    })
    for (const n of net.nodes) await n.pool.add(rotate, { source: 'local' })
    const hasNew = () => n0.engine.validatorsAt(Number(n0.chain.head.header.number)).indexOf(next.address) >= 0
    expect(await net.runUntil(hasNew, 60_000)).toBe(true)
    const from = Number(n0.chain.head.header.number)
    expect(await net.runUntil(() => n0.chain.head.header.number >= BigInt(from + 3), 60_000)).toBe(true)
    const head = Number(n0.chain.head.header.number)
    const block = async (h: number) => (await n0.chain.getBlockByNumber(BigInt(h))) as Block

    const schedule = new ValidatorSchedule(await genesisStakingSet(net.genesis, 'ml-dsa-65'), undefined, 'ml-dsa-65')
    let byNew = 0
    for (let h = 2; h <= head; h++) {
      const extra = decodeBftExtra((await block(h)).header.extraData, 'ml-dsa-65')
      schedule.recordHeader(h, extra.validatorChanges ?? [])
      const cert = extra.parentCertificate
      expect(cert?.height, `block ${h} certifies its parent`).toBe(h - 1)
      if (cert === null) continue
      const set = schedule.at(cert.height)
      verifySchemeCertificate(cert, 'ml-dsa-65', set, (a) => set.pqKeyOf(a), CHAIN_ID)
      const signers = cert.signatures.map((s) => set.validators[s.validatorIndex]?.address as Uint8Array)
      // Node 1 signs every height, with the key of that height's set.
      const expected = set.indexOf(next.address) >= 0 ? next.address : old.address
      expect(
        signers.some((a) => equalsBytes(a, expected)),
        `height ${cert.height}`,
      ).toBe(true)
      if (equalsBytes(expected, next.address)) byNew++
    }
    expect(byNew).toBeGreaterThanOrEqual(2)
    expect(lower(schedule.at(head).pqKeyOf(next.address) as Uint8Array)).toBe(lower(next.pqPublicKey as Uint8Array))
    expect(schedule.at(head).indexOf(old.address)).toBe(-1)
  }, 60_000)
})
