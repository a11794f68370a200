/**
 * The remote signer under the post-quantum schemes, over real mutual TLS on loopback: a hybrid key
 * (secp256k1 ‖ ML-DSA-65) and an ML-DSA-65 key sign votes and proposals through it, each signature
 * of the scheme's length and valid under it (against the ML-DSA key the validator set registers);
 * a conflicting vote is refused; a node of another scheme, or with another registered ML-DSA key,
 * is refused at connect; a signer answering 65 bytes to a hybrid node is a protocol error.
 *
 * The key lookup follows the chain: a validator the genesis does not hold (it joined through
 * staking) signs through the signer once the sets (the engine's schedule) register its key, and
 * its signatures are accepted by the engine's verifier; a set registering another key is refused
 * before the signer is asked; a rotation (`nextAddresses`) signs each height with the pair of its
 * set, each signature checked against that set's key.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, isCairnError, silentLogger } from '@cairn/utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { rawDigestKey } from '../../src/bft/pq/index.ts'
import { type SignatureScheme, signatureBytes } from '../../src/bft/pq/scheme.ts'
import { createSchemeVerifier } from '../../src/bft/pq/scheme-verifier.ts'
import { verifyVoteSignature } from '../../src/bft/pq/verify-vote.ts'
import { ConsensusErrorCode, MsgType, proposalDigest, ValidatorSet, voteDigest } from '../../src/index.ts'
import {
  FileProtectionStore,
  hybridDigestKey,
  mlDsaDigestKey,
  RemoteSigner,
  type RemoteSignerOptions,
  type SchemeDigestKey,
  SignerServer,
  SignProtection,
} from '../../src/privval/index.ts'
import { block } from '../bft/fixture.ts'
import { validatorKey } from '../harness/bft-network.ts'
import { makePki, type Pem } from './tls-fixture.ts'

const CHAIN = 1337n
const dir = mkdtempSync(join(tmpdir(), 'cairn-remote-signer-pq-'))
let pki: ReturnType<typeof makePki>
const servers: SignerServer[] = []
const stores: FileProtectionStore[] = []
const clients: RemoteSigner[] = []

const seed = (n: number) => new Uint8Array(32).fill(n)
const hybridKey = (i: number, s: number) =>
  hybridDigestKey({ secpKey: rawDigestKey(validatorKey(i)), pqSeed: seed(s) }, {})
const mlDsaKey = (s: number) => mlDsaDigestKey({ pqSeed: seed(s) }, {})

beforeAll(() => {
  pki = makePki(['node1', 'node2'])
})
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const s of servers.splice(0)) await s.close()
  for (const s of stores.splice(0)) s.close()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function startSigner(
  keys: (Uint8Array | SchemeDigestKey)[],
  opts: { db: string; scheme?: SignatureScheme },
): Promise<number> {
  const store = new FileProtectionStore({ dir: opts.db })
  stores.push(store)
  const server = new SignerServer(
    {
      chainId: CHAIN,
      host: '127.0.0.1',
      port: 0,
      tls: {
        ...pki.server,
        ca: [pki.ca],
        clients: [pki.clients.node1?.cert as string, pki.clients.node2?.cert as string],
      },
      ...(opts.scheme ? { scheme: opts.scheme } : {}),
    },
    { keys, protection: new SignProtection({ store }), logger: silentLogger },
  )
  servers.push(server)
  return (await server.listen()).port
}

/** A node's options: its chain's scheme and the ML-DSA keys its genesis registers. */
function nodeOptions(
  port: number,
  who: Pem,
  scheme: SignatureScheme,
  registered: SchemeDigestKey[],
): RemoteSignerOptions {
  return {
    chainId: CHAIN,
    url: `tls://127.0.0.1:${port}`,
    tls: { ca: pki.ca, cert: who.cert, key: who.key },
    timeoutMs: 5000,
    reconnectMs: { min: 50, max: 200 },
    ...(scheme !== 'secp256k1'
      ? {
          scheme,
          pqPublicKeyOf: (a: Uint8Array) =>
            registered.find((k) => bytesToHex(k.address) === bytesToHex(a))?.pqPublicKey ?? null,
        }
      : {}),
  }
}

async function connect(opts: RemoteSignerOptions): Promise<RemoteSigner> {
  const c = await RemoteSigner.connect(opts, { logger: silentLogger })
  clients.push(c)
  return c
}

const refusedAtConnect = async (opts: RemoteSignerOptions): Promise<Error> => {
  const err = await connect(opts).then(
    () => null,
    (e: unknown) => e as Error,
  )
  expect(err).not.toBeNull()
  expect(isCairnError(err, ConsensusErrorCode.BFT_SIGNER_CONFIG)).toBe(true)
  return err as Error
}

describe.each([
  { scheme: 'hybrid' as const, key: () => hybridKey(0, 1), other: () => hybridKey(0, 2) },
  { scheme: 'ml-dsa-65' as const, key: () => mlDsaKey(3), other: () => mlDsaKey(4) },
])('a $scheme key through the remote signer', ({ scheme, key: makeKey, other }) => {
  it('signs votes and proposals valid under the scheme, refuses a conflicting vote, re-signs the same', async () => {
    const key = makeKey()
    const port = await startSigner([key], { db: join(dir, `${scheme}-sign`), scheme })
    const one = await connect(nodeOptions(port, pki.clients.node1 as Pem, scheme, [key]))
    const two = await connect(nodeOptions(port, pki.clients.node2 as Pem, scheme, [key]))
    expect(bytesToHex(one.address)).toBe(bytesToHex(key.address))
    const identity = { address: key.address, pqPublicKey: key.pqPublicKey }
    const A = block('A').hash
    const B = block('B').hash
    const first = await one.signVote({ type: MsgType.PREVOTE, height: 5, round: 0, blockHash: A })
    if (!('signature' in first)) throw new Error(`refused: ${first.refused}`)
    expect(first.signature.length).toBe(signatureBytes(scheme))
    expect(verifyVoteSignature(scheme, voteDigest(CHAIN, first), first.signature, identity)).toEqual({ ok: true })
    // Not valid under the other key's ML-DSA key: the check is real.
    const stranger = other()
    expect(
      verifyVoteSignature(scheme, voteDigest(CHAIN, first), first.signature, {
        address: key.address,
        pqPublicKey: stranger.pqPublicKey,
      }).ok,
    ).toBe(false)
    const conflicting = await two.signVote({ type: MsgType.PREVOTE, height: 5, round: 0, blockHash: B })
    expect(conflicting).toMatchObject({ refused: expect.stringMatching(/conflict at 5\/0\/2/) })
    const same = await two.signVote({ type: MsgType.PREVOTE, height: 5, round: 0, blockHash: A })
    if (!('signature' in same)) throw new Error(`refused: ${same.refused}`)
    expect(verifyVoteSignature(scheme, voteDigest(CHAIN, same), same.signature, identity)).toEqual({ ok: true })
    const proposal = await one.signProposal({
      height: 6,
      round: 0,
      polRound: -1,
      blockHash: B,
      block: new Uint8Array(),
    })
    if (!('signature' in proposal)) throw new Error(`refused: ${proposal.refused}`)
    expect(proposal.signature.length).toBe(signatureBytes(scheme))
    expect(verifyVoteSignature(scheme, proposalDigest(CHAIN, proposal), proposal.signature, identity)).toEqual({
      ok: true,
    })
  })

  it('is refused at connect by a node of another scheme, or whose genesis registers another ML-DSA key', async () => {
    const key = makeKey()
    const port = await startSigner([key], { db: join(dir, `${scheme}-refuse`), scheme })
    const secpNode = await refusedAtConnect(nodeOptions(port, pki.clients.node1 as Pem, 'secp256k1', []))
    expect(secpNode.message).toMatch(new RegExp(`signs ${scheme} signatures, this node's chain uses secp256k1`))
    const otherPq = scheme === 'hybrid' ? 'ml-dsa-65' : 'hybrid'
    const pqNode = await refusedAtConnect(nodeOptions(port, pki.clients.node1 as Pem, otherPq, [key]))
    expect(pqNode.message).toMatch(new RegExp(`uses ${otherPq}`))
    // The genesis registers another ML-DSA key for this address (a mis-paired seed).
    const wrong = { ...other(), address: key.address }
    const misPaired = await refusedAtConnect(nodeOptions(port, pki.clients.node1 as Pem, scheme, [wrong]))
    expect(misPaired.message).toMatch(/not the one the genesis registers/)
  })
})

/** A set of `members` under `scheme`, each with its ML-DSA key (what the engine's schedule holds). */
const setOf = (scheme: SignatureScheme, members: SchemeDigestKey[]) =>
  ValidatorSet.create(
    members.map((k) => ({ address: k.address, votingPower: 10n, pqPublicKey: k.pqPublicKey as Uint8Array })),
    scheme,
  )

describe.each([
  {
    scheme: 'hybrid' as const,
    genesis: () => hybridKey(1, 11),
    joiner: () => hybridKey(2, 12),
    next: () => hybridKey(3, 13),
  },
  {
    scheme: 'ml-dsa-65' as const,
    genesis: () => mlDsaKey(21),
    joiner: () => mlDsaKey(22),
    next: () => mlDsaKey(23),
  },
])('$scheme: the ML-DSA key of each height comes from its validator set', ({ scheme, genesis, joiner, next }) => {
  const A = block('A').hash
  const vote = (height: number) => ({ type: MsgType.PRECOMMIT, height, round: 0, blockHash: A })

  it('a validator that joined after the genesis signs through the signer, and its votes are accepted', async () => {
    const [g, j] = [genesis(), joiner()]
    const port = await startSigner([j], { db: join(dir, `${scheme}-joiner`), scheme })
    // The genesis registers another validator only: connect takes the joiner's key, unchecked yet.
    const node = await connect(nodeOptions(port, pki.clients.node1 as Pem, scheme, [g]))
    expect(bytesToHex(node.address)).toBe(bytesToHex(j.address))
    // No set names it yet: nothing is asked of the signer (its signature could not be checked).
    const early = await node.signVote(vote(4)).catch((e: unknown) => e)
    expect(isCairnError(early, ConsensusErrorCode.BFT_SIGNER_CONFIG)).toBe(true)
    expect(String((early as Error).message)).toMatch(/no ML-DSA-65 key is registered for .* height 4/)
    // The engine gives the sets: from height 5 the joiner is a member with its key.
    const setAt = (h: number) => (h < 5 ? setOf(scheme, [g]) : setOf(scheme, [g, j]))
    node.followValidatorSets(setAt)
    const verifier = createSchemeVerifier(CHAIN, scheme, setAt)
    const signed = await node.signVote(vote(5))
    if (!('signature' in signed)) throw new Error(`refused: ${signed.refused}`)
    const wire = scheme === 'ml-dsa-65' ? { ...signed, validator: j.address } : signed
    expect(bytesToHex(verifier.voteSigner(wire) as Uint8Array)).toBe(bytesToHex(j.address))
    const proposal = await node.signProposal({
      height: 6,
      round: 0,
      polRound: -1,
      blockHash: A,
      block: new Uint8Array(),
    })
    if (!('signature' in proposal)) throw new Error(`refused: ${proposal.refused}`)
    const wireProposal = scheme === 'ml-dsa-65' ? { ...proposal, validator: j.address } : proposal
    expect(bytesToHex(verifier.proposalSigner(wireProposal) as Uint8Array)).toBe(bytesToHex(j.address))
  })

  it("a set that registers another ML-DSA key for the signer's key: refused before the signer is asked", async () => {
    const [g, j] = [genesis(), joiner()]
    const port = await startSigner([j], { db: join(dir, `${scheme}-wrong`), scheme })
    const node = await connect(nodeOptions(port, pki.clients.node1 as Pem, scheme, [g]))
    // A set that registers a stranger's ML-DSA key for the joiner's address (a real ml-dsa-65 set
    // cannot: an address is its key's, so a view of the set stands in for it).
    const stranger = next().pqPublicKey as Uint8Array
    const real = setOf(scheme, [g, j])
    const wrongSet = {
      indexOf: (a: Uint8Array) => real.indexOf(a),
      pqKeyOf: (a: Uint8Array) => (bytesToHex(a) === bytesToHex(j.address) ? stranger : real.pqKeyOf(a)),
    } as unknown as ValidatorSet
    node.followValidatorSets(() => wrongSet)
    const err = await node.signVote(vote(5)).catch((e: unknown) => e)
    expect(isCairnError(err, ConsensusErrorCode.BFT_SIGNER_CONFIG)).toBe(true)
    expect(String((err as Error).message)).toMatch(/holds for .* an ML-DSA key .* not the one the chain registers/)
    // Nothing was signed at 5: the right set now gets a conflicting vote signed there.
    node.followValidatorSets(() => setOf(scheme, [g, j]))
    const other = await node.signVote({ ...vote(5), blockHash: block('B').hash })
    expect('signature' in other).toBe(true)
  })

  it('a rotation: each height signed with the key of its set and checked against that set', async () => {
    const [g, j, n] = [genesis(), joiner(), next()]
    const port = await startSigner([j, n], { db: join(dir, `${scheme}-rotation`), scheme })
    const node = await connect({
      ...nodeOptions(port, pki.clients.node1 as Pem, scheme, [g]),
      address: j.address,
      nextAddresses: [n.address],
    })
    const setAt = (h: number) => (h < 10 ? setOf(scheme, [g, j]) : setOf(scheme, [g, n]))
    node.followValidatorSets(setAt)
    const verifier = createSchemeVerifier(CHAIN, scheme, setAt)
    for (const [height, key] of [
      [9, j],
      [10, n],
    ] as const) {
      expect(bytesToHex(node.addressAt(height) as Uint8Array)).toBe(bytesToHex(key.address))
      const signed = await node.signVote(vote(height))
      if (!('signature' in signed)) throw new Error(`refused: ${signed.refused}`)
      const wire = scheme === 'ml-dsa-65' ? { ...signed, validator: key.address } : signed
      expect(bytesToHex(verifier.voteSigner(wire) as Uint8Array)).toBe(bytesToHex(key.address))
    }
    // A next key the signer does not hold is refused at connect, naming it.
    const absent = await refusedAtConnect({
      ...nodeOptions(port, pki.clients.node2 as Pem, scheme, [g]),
      address: j.address,
      nextAddresses: [g.address],
    })
    expect(absent.message).toMatch(/holds no key for the next key/)
  })
})

describe('scheme mismatches', () => {
  it('a hybrid node refuses a secp256k1 signer at connect', async () => {
    const port = await startSigner([validatorKey(0)], { db: join(dir, 'secp-signer') })
    const err = await refusedAtConnect(nodeOptions(port, pki.clients.node1 as Pem, 'hybrid', [hybridKey(0, 1)]))
    expect(err.message).toMatch(/signs secp256k1 signatures, this node's chain uses hybrid/)
  })

  it('a signer refuses keys not of its scheme, and a seed given to two keys', () => {
    const store = new FileProtectionStore({ dir: join(dir, 'bad-keys') })
    stores.push(store)
    const make = (keys: (Uint8Array | SchemeDigestKey)[], scheme: SignatureScheme) => () =>
      new SignerServer(
        {
          chainId: CHAIN,
          host: '127.0.0.1',
          port: 0,
          tls: { ...pki.server, clients: [pki.clients.node1?.cert as string] },
          scheme,
        },
        { keys, protection: new SignProtection({ store }), logger: silentLogger },
      )
    expect(make([validatorKey(0)], 'hybrid')).toThrow(/signs secp256k1, but the signer serves a hybrid chain/)
    expect(make([mlDsaKey(3)], 'hybrid')).toThrow(/signs ml-dsa-65, but the signer serves a hybrid chain/)
    expect(make([hybridKey(0, 1)], 'secp256k1')).toThrow(/signs hybrid, but the signer serves a secp256k1 chain/)
    expect(make([hybridKey(0, 1), hybridKey(1, 1)], 'hybrid')).toThrow(/the ML-DSA key of another validator key/)
    expect(make([hybridKey(0, 1), hybridKey(1, 2)], 'hybrid')).not.toThrow()
  })

  it('a hybrid node takes a 65-byte answer, or one its genesis ML-DSA key does not verify, as a protocol error', async () => {
    const real = hybridKey(0, 1)
    // The server refuses to send a signature not of its scheme's length.
    const short: SchemeDigestKey = { ...real, sign: (d) => rawDigestKey(validatorKey(0)).sign(d) }
    const refusing = await startSigner([short], { db: join(dir, 'short'), scheme: 'hybrid' })
    const vote = { type: MsgType.PREVOTE, height: 1, round: 0, blockHash: block('A').hash }
    const fails = async (port: number, re: RegExp) => {
      const node = await connect(nodeOptions(port, pki.clients.node1 as Pem, 'hybrid', [real]))
      const err = await node.signVote(vote).then(
        () => null,
        (e: unknown) => e,
      )
      expect(isCairnError(err, ConsensusErrorCode.BFT_SIGNER_PROTOCOL)).toBe(true)
      expect(String((err as Error).message)).toMatch(re)
    }
    await fails(refusing, /INTERNAL the key gave 65 bytes/)
    // A (broken) signer that answers what its handle gives, tampered: the client checks itself.
    class Tampering extends SignerServer {
      constructor(
        readonly tamper: (sig: string) => string,
        ...args: ConstructorParameters<typeof SignerServer>
      ) {
        super(...args)
      }
      override handle(message: unknown): ReturnType<SignerServer['handle']> {
        const r = super.handle(message)
        if ('result' in r && 'signature' in r.result)
          return { ...r, result: { signature: this.tamper(r.result.signature) } }
        return r
      }
    }
    const start = async (key: SchemeDigestKey, db: string, tamper: (sig: string) => string) => {
      const store = new FileProtectionStore({ dir: join(dir, db) })
      stores.push(store)
      const server = new Tampering(
        tamper,
        {
          chainId: CHAIN,
          host: '127.0.0.1',
          port: 0,
          tls: { ...pki.server, clients: [pki.clients.node1?.cert as string] },
          scheme: 'hybrid',
        },
        { keys: [key], protection: new SignProtection({ store }), logger: silentLogger },
      )
      servers.push(server)
      return (await server.listen()).port
    }
    // 65 bytes (the secp256k1 part alone) to a hybrid node: the wrong length.
    await fails(await start(real, 't-short', (sig) => sig.slice(0, 2 + 130)), /no hybrid signature \(3374 bytes\)/)
    // The right length, but its ML-DSA part by another seed than the genesis registers.
    // (A signer whose keys answer says the registered key but signs with another seed.)
    const otherSeed: SchemeDigestKey = { ...real, sign: hybridKey(0, 2).sign }
    await fails(await start(otherSeed, 't-pq', (sig) => sig), /pq-invalid/)
  })
})
