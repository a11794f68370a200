/**
 * The remote signer over real mutual TLS on loopback: two nodes sharing one key cannot get
 * conflicting votes signed; an unpinned or foreign certificate is refused; and a validator of the
 * in-process network signing through it stops voting while the signer is down (the chain goes on
 * with the others) and votes again once it is back.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAddress } from '@cairn/crypto'
import { bytesToHex, isCairnError, silentLogger } from '@cairn/utils'
import { Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  ConsensusErrorCode,
  MsgType,
  proposalDigest,
  recoverSigner,
  ValidatorSet,
  voteDigest,
} from '../../src/index.ts'
import {
  createRemoteSignerMetrics,
  FileProtectionStore,
  RemoteSigner,
  type RemoteSignerOptions,
  SignerServer,
  SignProtection,
} from '../../src/privval/index.ts'
import { block } from '../bft/fixture.ts'
import { BftNetwork, validatorKey } from '../harness/bft-network.ts'
import { makePki, type Pem } from './tls-fixture.ts'

const CHAIN = 1337n
const dir = mkdtempSync(join(tmpdir(), 'cairn-remote-signer-'))
let pki: ReturnType<typeof makePki>
let foreign: ReturnType<typeof makePki>
const servers: SignerServer[] = []
const stores: FileProtectionStore[] = []
const clients: RemoteSigner[] = []

beforeAll(() => {
  pki = makePki(['node1', 'node2', 'node3'])
  foreign = makePki(['stranger'])
})
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const s of servers.splice(0)) await s.close()
  for (const s of stores.splice(0)) s.close()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function startSigner(
  keys: Uint8Array[],
  opts: { db: string; port?: number; pinned?: string[] },
): Promise<{ server: SignerServer; port: number; store: FileProtectionStore }> {
  const store = new FileProtectionStore({ dir: opts.db })
  stores.push(store)
  const server = new SignerServer(
    {
      chainId: CHAIN,
      host: '127.0.0.1',
      port: opts.port ?? 0,
      tls: {
        ...pki.server,
        ca: [pki.ca],
        clients: opts.pinned ?? [pki.clients.node1?.cert as string, pki.clients.node2?.cert as string],
      },
    },
    { keys, protection: new SignProtection({ store }), logger: silentLogger },
  )
  servers.push(server)
  const { port } = await server.listen()
  return { server, port, store }
}

function clientOptions(port: number, who: Pem, ca = pki.ca): RemoteSignerOptions {
  return {
    chainId: CHAIN,
    url: `tls://127.0.0.1:${port}`,
    tls: { ca, cert: who.cert, key: who.key },
    timeoutMs: 2000,
    reconnectMs: { min: 50, max: 200 },
  }
}

async function connect(opts: RemoteSignerOptions, registry?: Registry): Promise<RemoteSigner> {
  const c = await RemoteSigner.connect(opts, {
    logger: silentLogger,
    ...(registry ? { metrics: createRemoteSignerMetrics(registry) } : {}),
  })
  clients.push(c)
  return c
}

describe('two nodes sharing one key through one signer', () => {
  it('signs the first vote of a step, refuses the conflicting one, and re-signs the same one', async () => {
    const key = validatorKey(0)
    const { port } = await startSigner([key], { db: join(dir, 'shared') })
    const one = await connect(clientOptions(port, pki.clients.node1 as Pem))
    const two = await connect(clientOptions(port, pki.clients.node2 as Pem))
    expect(bytesToHex(one.address)).toBe(bytesToHex(privateKeyToAddress(key)))
    const A = block('A').hash
    const B = block('B').hash
    const first = await one.signVote({ type: MsgType.PREVOTE, height: 5, round: 0, blockHash: A })
    expect('signature' in first).toBe(true)
    if (!('signature' in first)) return
    expect(bytesToHex(recoverSigner(voteDigest(CHAIN, first), first.signature) as Uint8Array)).toBe(
      bytesToHex(one.address),
    )
    const conflicting = await two.signVote({ type: MsgType.PREVOTE, height: 5, round: 0, blockHash: B })
    expect(conflicting).toMatchObject({ refused: expect.stringMatching(/conflict at 5\/0\/2/) })
    const nil = await two.signVote({ type: MsgType.PREVOTE, height: 5, round: 0, blockHash: null })
    expect(nil).toHaveProperty('refused')
    const same = await two.signVote({ type: MsgType.PREVOTE, height: 5, round: 0, blockHash: A })
    expect('signature' in same && bytesToHex(same.signature)).toBe(bytesToHex(first.signature))
    // Racing: both at once for the next step, different blocks: exactly one is signed.
    const race = await Promise.all([
      one.signVote({ type: MsgType.PRECOMMIT, height: 5, round: 0, blockHash: A }),
      two.signVote({ type: MsgType.PRECOMMIT, height: 5, round: 0, blockHash: B }),
    ])
    expect(race.filter((r) => 'signature' in r)).toHaveLength(1)
    // A proposal at a step already passed is refused.
    const late = await one.signProposal({ height: 5, round: 0, polRound: -1, blockHash: A, block: new Uint8Array() })
    expect(late).toHaveProperty('refused')
  })
})

describe('mutual TLS', () => {
  it('refuses a client whose certificate (of the right CA) is not pinned', async () => {
    const { port } = await startSigner([validatorKey(0)], { db: join(dir, 'pin') })
    const err = await connect(clientOptions(port, pki.clients.rogue as Pem)).catch((e: unknown) => e)
    expect(isCairnError(err, ConsensusErrorCode.BFT_SIGNER_UNAVAILABLE)).toBe(true)
    expect(String((err as Error).message)).toMatch(/unreachable/)
  })

  it('refuses a client certificate of another CA, and a client that does not trust the signer', async () => {
    const { port } = await startSigner([validatorKey(0)], { db: join(dir, 'ca') })
    const stranger = await connect(clientOptions(port, foreign.clients.stranger as Pem)).catch((e: unknown) => e)
    expect(isCairnError(stranger, ConsensusErrorCode.BFT_SIGNER_UNAVAILABLE)).toBe(true)
    const distrustful = await connect(clientOptions(port, pki.clients.node1 as Pem, foreign.ca)).catch(
      (e: unknown) => e,
    )
    expect(isCairnError(distrustful, ConsensusErrorCode.BFT_SIGNER_UNAVAILABLE)).toBe(true)
  })

  it('says so at start when the signer is for another chain or lacks the key', async () => {
    const { port } = await startSigner([validatorKey(0)], { db: join(dir, 'chain') })
    const wrongChain = await connect({ ...clientOptions(port, pki.clients.node1 as Pem), chainId: 5n }).catch(
      (e: unknown) => e,
    )
    expect(isCairnError(wrongChain, ConsensusErrorCode.BFT_SIGNER_CONFIG)).toBe(true)
    expect(String((wrongChain as Error).message)).toMatch(/chain 1337/)
    const absent = await connect({
      ...clientOptions(port, pki.clients.node1 as Pem),
      address: privateKeyToAddress(validatorKey(1)),
    }).catch((e: unknown) => e)
    expect(isCairnError(absent, ConsensusErrorCode.BFT_SIGNER_CONFIG)).toBe(true)
  })
})

describe('a consensus key rotation through the remote signer', () => {
  it('signs each height with the key in its set, refuses where neither is, and needs the next key held', async () => {
    const old = validatorKey(0)
    const next = validatorKey(7)
    const [oldAddr, nextAddr] = [privateKeyToAddress(old), privateKeyToAddress(next)]
    const { port } = await startSigner([old, next], { db: join(dir, 'rotation') })
    const other = privateKeyToAddress(validatorKey(1))
    const setOf = (...members: Uint8Array[]) =>
      ValidatorSet.create(members.map((address) => ({ address, votingPower: 10n })))
    // The rotation takes effect at height 10; at 20 the validator has left the set.
    const setAt = (h: number) => (h < 10 ? setOf(oldAddr, other) : h < 20 ? setOf(nextAddr, other) : setOf(other))
    const client = await connect({
      ...clientOptions(port, pki.clients.node1 as Pem),
      address: oldAddr,
      nextAddresses: [nextAddr],
    })
    client.followValidatorSets(setAt)
    expect(client.addresses.map(bytesToHex)).toEqual([bytesToHex(oldAddr), bytesToHex(nextAddr)])
    const A = block('A').hash
    const signedBy = async (height: number) => {
      const r = await client.signVote({ type: MsgType.PRECOMMIT, height, round: 0, blockHash: A })
      return 'signature' in r ? bytesToHex(recoverSigner(voteDigest(CHAIN, r), r.signature) as Uint8Array) : r
    }
    expect(await signedBy(9)).toBe(bytesToHex(oldAddr))
    expect(await signedBy(10)).toBe(bytesToHex(nextAddr))
    expect(await signedBy(19)).toBe(bytesToHex(nextAddr))
    expect(await signedBy(20)).toMatchObject({ refused: expect.stringMatching(/no key .* height 20/) })
    const p = await client.signProposal({ height: 19, round: 1, polRound: -1, blockHash: A, block: new Uint8Array() })
    expect('signature' in p && bytesToHex(recoverSigner(proposalDigest(CHAIN, p), p.signature) as Uint8Array)).toBe(
      bytesToHex(nextAddr),
    )
    // A next key the signer does not hold is a start error that names it.
    const missing = await connect({
      ...clientOptions(port, pki.clients.node2 as Pem),
      address: oldAddr,
      nextAddresses: [other],
    }).catch((e: unknown) => e)
    expect(isCairnError(missing, ConsensusErrorCode.BFT_SIGNER_CONFIG)).toBe(true)
    expect(String((missing as Error).message)).toContain(`next key ${bytesToHex(other)}`)
  })
})

describe('a validator of a network signing through the remote signer', () => {
  it('finalizes with it, stops voting while the signer is down, and votes again when it returns', async () => {
    const remoteIndex = 3
    const key = validatorKey(remoteIndex)
    const db = join(dir, 'network')
    const pinned = [pki.clients.node3?.cert as string]
    let signer = await startSigner([key], { db, pinned })
    const registry = new Registry()
    const remote = await connect(clientOptions(signer.port, pki.clients.node3 as Pem), registry)
    const net = await BftNetwork.create({
      validators: 4,
      signer: (i) => (i === remoteIndex ? remote : undefined),
    })
    try {
      await net.start()
      expect(await net.runUntil(() => net.height(0) >= 4n, 60_000)).toBe(true)
      const up = () => signer.store.load(CHAIN, bytesToHex(remote.address))?.height ?? 0
      const signedWhileUp = up()
      expect(signedWhileUp).toBeGreaterThanOrEqual(3)

      // The signer goes away: the validator cannot vote; the other three finalize on.
      await signer.server.close()
      signer.store.close()
      await vi.waitFor(() => expect(remote.up).toBe(false), { timeout: 5_000 })
      const before = net.height(0)
      expect(await net.runUntil(() => net.height(0) >= before + 3n, 60_000)).toBe(true)
      const downMetric = (await registry.getSingleMetric('cairn_bft_remote_signer_up')?.get())?.values[0]?.value
      expect(downMetric).toBe(0)
      const reopened = new FileProtectionStore({ dir: db })
      expect(reopened.load(CHAIN, bytesToHex(remote.address))?.height).toBe(signedWhileUp)
      reopened.close()

      // It comes back on the same port: the client reconnects and the validator votes again.
      signer = await startSigner([key], { db, pinned, port: signer.port })
      await vi.waitFor(() => expect(remote.up).toBe(true), { timeout: 10_000 })
      const back = net.height(0)
      expect(await net.runUntil(() => net.height(0) >= back + 3n, 60_000)).toBe(true)
      expect(up()).toBeGreaterThan(Number(back))
      expect((await registry.getSingleMetric('cairn_bft_remote_signer_up')?.get())?.values[0]?.value).toBe(1)
      // Every node holds the same chain.
      const h = net.height(0)
      for (const n of net.nodes) {
        expect(bytesToHex((await n.chain.getCanonicalHash(h - 1n)) as Uint8Array)).toBe(
          bytesToHex((await net.nodes[0]?.chain.getCanonicalHash(h - 1n)) as Uint8Array),
        )
      }
    } finally {
      await net.stop()
    }
  }, 120_000)
})
