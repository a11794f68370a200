/**
 * The `ml-dsa-65` scheme (ML-DSA-65 alone, no secp256k1) in the in-process network: four
 * validators known by `pqAddress` of their keys finalize, every certificate a header carries
 * verifies under `ml-dsa-65` with 3,309-byte signatures, and a vote whose signature is altered, or
 * that claims another validator, is refused at the edge and never counted towards a quorum.
 */
import { keccak256 } from '@cairn/crypto'
import { bytesToHex } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createSchemeVerifier, pqAddress, signatureBytes, verifySchemeCertificate } from '../../src/bft/pq/index.ts'
import { decodeBftExtra, decodeWire, encodeWire, MemorySignerState, ValidatorSigner } from '../../src/index.ts'
import { mlDsaDigestKey, type SchemeDigestKey } from '../../src/privval/index.ts'
import { BftNetwork, type BftNode } from '../harness/bft-network.ts'

const CHAIN_ID = 1337n
const SIG_BYTES = signatureBytes('ml-dsa-65')
const utf8 = (s: string) => new TextEncoder().encode(s)
const KEYS: SchemeDigestKey[] = [0, 1, 2, 3].map((i) =>
  mlDsaDigestKey({ pqSeed: keccak256(utf8(`cairn-bft-mldsa-test-${i}`)), signing: 'deterministic' }),
)
const addressOf = (i: number) => KEYS[i]?.address as Uint8Array

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

async function mlDsaNetwork(onPublish?: (from: number, data: Uint8Array) => void): Promise<BftNetwork> {
  return BftNetwork.create({
    validators: 4,
    signer: (i) =>
      new ValidatorSigner({ chainId: CHAIN_ID, key: KEYS[i] as SchemeDigestKey }, { state: new MemorySignerState() }),
    // The set is the ML-DSA keys' addresses (not the harness's secp256k1 ones).
    bft: () => ({
      signatureScheme: 'ml-dsa-65',
      validators: KEYS.map((k) => ({
        address: bytesToHex(k.address),
        power: 10,
        pqPublicKey: bytesToHex(k.pqPublicKey as Uint8Array),
      })),
    }),
    ...(onPublish ? { onPublish } : {}),
  })
}

function flip(signature: Uint8Array): Uint8Array {
  const out = signature.slice()
  out[1000] = (out[1000] as number) ^ 0x01
  return out
}

describe('ml-dsa-65 signatures in the engine', () => {
  it('four ml-dsa-65 validators finalize, each certificate verifying under ml-dsa-65 with 3,309-byte signatures', async () => {
    const published: Uint8Array[] = []
    net = await mlDsaNetwork((from, data) => {
      if (from === 1 && published.length < 50) published.push(data)
    })
    await net.start()
    const all = net
    expect(await net.runUntil(() => all.nodes.every((n) => n.chain.head.header.number >= 6n), 60_000)).toBe(true)
    const node = net.nodes[0] as BftNode
    expect(node.engine.validators.scheme).toBe('ml-dsa-65')
    expect(bytesToHex(node.engine.address as Uint8Array)).toBe(bytesToHex(addressOf(0)))
    expect(bytesToHex(addressOf(0))).toBe(bytesToHex(pqAddress(KEYS[0]?.pqPublicKey as Uint8Array)))
    const proposers = new Set<string>()
    for (let h = 1; h <= 5; h++) {
      const block = await node.chain.getBlockByNumber(BigInt(h))
      proposers.add(bytesToHex(block?.header.coinbase.bytes as Uint8Array))
      const child = await node.chain.getBlockByNumber(BigInt(h + 1))
      const cert = decodeBftExtra(child?.header.extraData as Uint8Array, 'ml-dsa-65').parentCertificate
      expect(cert?.height).toBe(h)
      if (cert === null) throw new Error('no certificate')
      expect(cert.signatures.length).toBeGreaterThanOrEqual(3)
      for (const s of cert.signatures) expect(s.signature.length).toBe(SIG_BYTES)
      const set = node.engine.validatorsAt(h)
      expect(() => verifySchemeCertificate(cert, 'ml-dsa-65', set, (a) => set.pqKeyOf(a), CHAIN_ID)).not.toThrow()
      // Under hybrid rules the same signatures are the wrong length.
      expect(() => decodeBftExtra(child?.header.extraData as Uint8Array, 'hybrid')).toThrow(/not 3374 bytes/)
    }
    // The coinbase of each block is its proposer's pqAddress.
    const members = new Set<string>(KEYS.map((k) => bytesToHex(k.address)))
    for (const p of proposers) expect(members.has(p)).toBe(true)
    // On the wire, node 1's votes and proposals name it.
    const named = published
      .map((d) => decodeWire(d, 'ml-dsa-65'))
      .filter((m) => m.kind === 'vote' || m.kind === 'proposal')
    expect(named.length).toBeGreaterThan(0)
    for (const m of named) {
      const v = m.kind === 'vote' ? m.vote.validator : m.kind === 'proposal' ? m.proposal.validator : undefined
      expect(bytesToHex(v as Uint8Array)).toBe(bytesToHex(addressOf(1)))
    }
  }, 120_000)

  it('refuses a vote with a flipped signature byte or another validator’s address, and never counts it', async () => {
    const votesOf3: Uint8Array[] = []
    net = await mlDsaNetwork((from, data) => {
      if (from === 3 && decodeWire(data, 'ml-dsa-65').kind === 'vote') votesOf3.push(data)
    })
    await net.start()
    const all = net
    expect(await net.runUntil(() => all.nodes.every((n) => n.chain.head.header.number >= 2n), 60_000)).toBe(true)

    // At the edge: the genuine vote is validator 3's; altered or re-attributed, it is no one's.
    const genuine = decodeWire(votesOf3.at(-1) as Uint8Array, 'ml-dsa-65')
    if (genuine.kind !== 'vote') throw new Error('not a vote')
    const verifier = createSchemeVerifier(CHAIN_ID, 'ml-dsa-65', (h) => all.nodes[0]?.engine.validatorsAt(h) as never)
    expect(bytesToHex(verifier.voteSigner(genuine.vote) as Uint8Array)).toBe(bytesToHex(addressOf(3)))
    expect(verifier.voteSigner({ ...genuine.vote, signature: flip(genuine.vote.signature) })).toBeNull()
    expect(verifier.voteSigner({ ...genuine.vote, validator: addressOf(2) })).toBeNull()
    expect(verifier.voteSigner({ ...genuine.vote, validator: new Uint8Array(20).fill(9) })).toBeNull()
    const { validator: _, ...unnamed } = genuine.vote
    expect(verifier.voteSigner(unnamed)).toBeNull()

    // In the network: node 2 is cut off and node 3's votes reach the others only tampered: first
    // with a flipped signature byte, then claiming to be validator 2's (the silent one). Counted,
    // 0, 1 and "2" would hold 30 of 40 (> 2/3); refused, 20 of 40: no commit.
    const rejected: unknown[] = []
    net.silent.add(2)
    const tamperWith = (change: (v: { signature: Uint8Array; validator?: Uint8Array }) => object) => {
      all.dropIf = (from, data) => {
        if (from !== 3) return false
        const msg = decodeWire(data, 'ml-dsa-65')
        if (msg.kind !== 'vote') return false
        const bad = encodeWire({ kind: 'vote', vote: { ...msg.vote, ...change(msg.vote) } }, 7)
        for (const to of [0, 1]) void all.deliver(to, bad, '3').then((verdict) => rejected.push(verdict))
        return true
      }
    }
    tamperWith((v) => ({ signature: flip(v.signature) }))
    await net.run(500)
    const stuckAt = net.height(0)
    await net.run(8_000)
    expect(net.height(0)).toBe(stuckAt)
    expect(net.height(1)).toBeLessThanOrEqual(stuckAt)
    expect(rejected).toContain('reject')
    expect(rejected.every((v) => v === 'reject' || v === 'ignore')).toBe(true)
    const flippedRejections = rejected.length

    tamperWith(() => ({ validator: addressOf(2) }))
    await net.run(8_000)
    expect(net.height(0)).toBe(stuckAt)
    expect(net.height(1)).toBeLessThanOrEqual(stuckAt)
    expect(rejected.length).toBeGreaterThan(flippedRejections)
    expect(rejected.slice(flippedRejections)).toContain('reject')
    expect(rejected.every((v) => v === 'reject' || v === 'ignore')).toBe(true)

    // Node 3's votes intact again: the same three validators commit.
    net.dropIf = null
    expect(await net.runUntil(() => all.height(0) >= stuckAt + 2n, 60_000)).toBe(true)
  }, 180_000)
})
