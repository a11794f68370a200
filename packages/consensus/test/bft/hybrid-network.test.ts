/**
 * The hybrid scheme (secp256k1 ‖ ML-DSA-65) in the in-process network: four validators whose
 * genesis registers their ML-DSA keys finalize, every certificate a header carries verifies under
 * `hybrid` with 3,374-byte signatures, and a vote whose ML-DSA part is altered is refused at the
 * edge and never counted towards a quorum.
 */
import { keccak256 } from '@cairn/crypto'
import { rawDigestKey } from '@cairn/keys'
import { bytesToHex } from '@cairn/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { createSchemeVerifier, HYBRID_SIGNATURE_BYTES, verifySchemeCertificate } from '../../src/bft/pq/index.ts'
import { decodeBftExtra, decodeWire, encodeWire, MemorySignerState, ValidatorSigner } from '../../src/index.ts'
import { hybridDigestKey, type SchemeDigestKey } from '../../src/privval/index.ts'
import { BftNetwork, type BftNode, validatorKey } from '../harness/bft-network.ts'

const CHAIN_ID = 1337n
const utf8 = (s: string) => new TextEncoder().encode(s)
const KEYS: SchemeDigestKey[] = [0, 1, 2, 3].map((i) =>
  hybridDigestKey({
    secpKey: rawDigestKey(validatorKey(i)),
    pqSeed: keccak256(utf8(`cairn-bft-pq-test-${i}`)),
    signing: 'deterministic',
  }),
)

let net: BftNetwork | undefined
afterEach(async () => {
  await net?.stop()
  net = undefined
})

async function hybridNetwork(onPublish?: (from: number, data: Uint8Array) => void): Promise<BftNetwork> {
  return BftNetwork.create({
    validators: 4,
    signer: (i) =>
      new ValidatorSigner({ chainId: CHAIN_ID, key: KEYS[i] as SchemeDigestKey }, { state: new MemorySignerState() }),
    bft: (validators) => ({
      signatureScheme: 'hybrid',
      validators: validators.map((v, i) => ({ ...v, pqPublicKey: bytesToHex(KEYS[i]?.pqPublicKey as Uint8Array) })),
    }),
    ...(onPublish ? { onPublish } : {}),
  })
}

/** The ML-DSA part of a hybrid signature with one byte flipped (the secp256k1 part intact). */
function flipPq(signature: Uint8Array): Uint8Array {
  const out = signature.slice()
  out[65 + 1000] = (out[65 + 1000] as number) ^ 0x01
  return out
}

describe('hybrid signatures in the engine', () => {
  it('four hybrid validators finalize, each certificate verifying under hybrid with 3,374-byte signatures', async () => {
    net = await hybridNetwork()
    await net.start()
    const all = net
    expect(await net.runUntil(() => all.nodes.every((n) => n.chain.head.header.number >= 6n), 60_000)).toBe(true)
    const node = net.nodes[0] as BftNode
    expect(node.engine.validators.scheme).toBe('hybrid')
    for (let h = 1; h <= 5; h++) {
      const child = await node.chain.getBlockByNumber(BigInt(h + 1))
      const cert = decodeBftExtra(child?.header.extraData as Uint8Array, 'hybrid').parentCertificate
      expect(cert?.height).toBe(h)
      if (cert === null) throw new Error('no certificate')
      expect(cert.signatures.length).toBeGreaterThanOrEqual(3)
      for (const s of cert.signatures) expect(s.signature.length).toBe(HYBRID_SIGNATURE_BYTES)
      const set = node.engine.validatorsAt(h)
      expect(() => verifySchemeCertificate(cert, 'hybrid', set, (a) => set.pqKeyOf(a), CHAIN_ID)).not.toThrow()
      // The same certificate under secp256k1 rules: its signatures are not 65 bytes.
      expect(() => decodeBftExtra(child?.header.extraData as Uint8Array)).toThrow(/not 65 bytes/)
    }
  }, 120_000)

  it('refuses a vote whose ML-DSA part is flipped, and does not count it towards a quorum', async () => {
    const votesOf3: Uint8Array[] = []
    net = await hybridNetwork((from, data) => {
      if (from === 3 && decodeWire(data, 'hybrid').kind === 'vote') votesOf3.push(data)
    })
    await net.start()
    const all = net
    expect(await net.runUntil(() => all.nodes.every((n) => n.chain.head.header.number >= 2n), 60_000)).toBe(true)

    // At the edge: the genuine vote is validator 3's, the altered one is no one's and is rejected.
    const genuine = decodeWire(votesOf3.at(-1) as Uint8Array, 'hybrid')
    if (genuine.kind !== 'vote') throw new Error('not a vote')
    const verifier = createSchemeVerifier(CHAIN_ID, 'hybrid', (h) => all.nodes[0]?.engine.validatorsAt(h) as never)
    expect(bytesToHex(verifier.voteSigner(genuine.vote) as Uint8Array)).toBe(bytesToHex(KEYS[3]?.address as Uint8Array))
    const altered = { ...genuine.vote, signature: flipPq(genuine.vote.signature) }
    expect(verifier.voteSigner(altered)).toBeNull()

    // In the network: node 2 is cut off and node 3's votes reach the others only with their ML-DSA
    // part flipped. Counted, 0, 1 and 3 would hold 30 of 40 (> 2/3); refused, 20 of 40: no commit.
    const tampered = (data: Uint8Array): Uint8Array | null => {
      const msg = decodeWire(data, 'hybrid')
      if (msg.kind !== 'vote') return null
      return encodeWire({ kind: 'vote', vote: { ...msg.vote, signature: flipPq(msg.vote.signature) } }, 7)
    }
    const rejected: unknown[] = []
    net.silent.add(2)
    net.dropIf = (from, data) => {
      if (from !== 3) return false
      const bad = tampered(data)
      if (bad === null) return false
      for (const to of [0, 1]) void all.deliver(to, bad, '3').then((verdict) => rejected.push(verdict))
      return true
    }
    await net.run(500)
    const stuckAt = net.height(0)
    await net.run(20_000)
    expect(net.height(0)).toBe(stuckAt)
    expect(net.height(1)).toBeLessThanOrEqual(stuckAt)
    expect(rejected.length).toBeGreaterThan(0)
    expect(rejected.every((v) => v === 'reject' || v === 'ignore')).toBe(true)
    expect(rejected).toContain('reject')

    // Node 3's votes intact again: the same three validators commit.
    net.dropIf = null
    expect(await net.runUntil(() => all.height(0) >= stuckAt + 2n, 60_000)).toBe(true)
  }, 120_000)
})
