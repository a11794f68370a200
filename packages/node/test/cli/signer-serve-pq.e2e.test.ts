/**
 * `cairn signer serve --signature-scheme hybrid|ml-dsa-65` as a real process: the pairing of
 * --pq-seed-file with --keystore and --hsm-key is checked at start (a clear error for each
 * mistake); an ml-dsa-65 signer holding a seed alone signs 3,309-byte votes that verify under the
 * seed's key for a RemoteSigner client of that scheme, while a secp256k1 client is refused at
 * connect, and holding the next seed of a rotation beside it (a second --pq-seed-file) signs each
 * height with the key of its set (`nextAddress`, the sets as the engine gives them); a hybrid
 * signer whose secp256k1 key is on a SoftHSM2 token signs 3,374-byte votes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MsgType, ValidatorSet, voteDigest } from '@cairn/consensus'
import { verifyVoteSignature } from '@cairn/consensus/pq'
import { hybridDigestKey, mlDsaDigestKey, RemoteSigner, type RemoteSignerOptions } from '@cairn/consensus/privval'
import { Pkcs11Token } from '@cairn/keys'
import { bytesToHex, isCairnError, silentLogger } from '@cairn/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, softHsmMissing } from '../../../keys/test/hsm/softhsm.ts'
import { type RunningNode, runCli, startCli } from './run-cli.ts'

const missing = softHsmMissing()
if (missing) console.warn(`skipping the hybrid signer on SoftHSM2: ${missing}`)
const hsm = makeSoftHsm('cairn-signer-pq-hsm-')
afterAll(() => hsm.remove())

const dir = mkdtempSync(join(tmpdir(), 'cairn-signer-pq-e2e-'))
const live: RunningNode[] = []
const clients: RemoteSigner[] = []
afterAll(async () => {
  for (const c of clients) c.close()
  for (const n of live) await n.stop()
  rmSync(dir, { recursive: true, force: true })
})

const SEED = new Uint8Array(32).fill(7)
const tls = join(dir, 'tls')
const base = (extra: string[]) => [
  'signer',
  'serve',
  '--chain-id',
  '1337',
  '--listen',
  '127.0.0.1:0',
  '--tls-cert',
  join(tls, 'signer.pem'),
  '--tls-key',
  join(tls, 'signer-key.pem'),
  '--client',
  join(tls, 'node1.pem'),
  '--db',
  join(dir, 'db'),
  '--password-file',
  join(dir, 'pw'),
  ...extra,
]

describe('cairn signer serve under a post-quantum scheme', () => {
  beforeAll(async () => {
    const certs = await runCli(['signer', 'certs', '--out', tls, '--client', 'node1'])
    expect(certs.code, certs.stderr).toBe(0)
    writeFileSync(join(dir, 'pw'), 'unused\n', { mode: 0o600 })
  }, 60_000)

  it('refuses unpaired or misplaced seeds at start, each saying why', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--signature-scheme', 'hybrid', '--keystore', 'a.json'],
        /one --pq-seed-file per validator key \(got 1 keystores, 0 HSM keys and 0 seeds\)/,
      ],
      [
        ['--signature-scheme', 'hybrid', '--keystore', 'a.json', '--pq-seed-file', 'a', '--pq-seed-file', 'b'],
        /got 1 keystores, 0 HSM keys and 2 seeds/,
      ],
      [['--keystore', 'a.json', '--pq-seed-file', 'a'], /--pq-seed-file is for a hybrid or ml-dsa-65 chain/],
      [
        ['--signature-scheme', 'ml-dsa-65', '--keystore', 'a.json', '--pq-seed-file', 'a'],
        /--keystore would be unused/,
      ],
      [
        ['--signature-scheme', 'hybrid', '--hsm-key', 'v1', '--keystore', 'a.json', '--pq-seed-file', 'a'],
        /got 1 keystores, 1 HSM keys and 1 seeds/,
      ],
      [
        ['--signature-scheme', 'ml-dsa-65', '--hsm-key', 'v1', '--pq-seed-file', 'a'],
        /--hsm-key is not supported on an ml-dsa-65 chain/,
      ],
      [['--signature-scheme', 'sphincs', '--pq-seed-file', 'a'], /unknown consensus signature scheme "sphincs"/],
    ]
    const results = await Promise.all(cases.map(([args]) => runCli(base(args))))
    for (const [i, [args, re]] of cases.entries()) {
      expect(results[i]?.code, args.join(' ')).not.toBe(0)
      expect(results[i]?.stderr, args.join(' ')).toMatch(re)
    }
  }, 120_000)

  it('an ml-dsa-65 signer holding seeds alone signs votes valid under their keys, each height with the key of its set; a secp256k1 node is refused', async () => {
    const seedFile = join(dir, 'validator.mldsa.seed')
    writeFileSync(seedFile, `${Buffer.from(SEED).toString('hex')}\n`, { mode: 0o600 })
    const key = mlDsaDigestKey({ pqSeed: SEED })
    // The next seed of a rotation, held beside the current one.
    const nextSeed = new Uint8Array(32).fill(8)
    const nextSeedFile = join(dir, 'validator.next.mldsa.seed')
    writeFileSync(nextSeedFile, `${Buffer.from(nextSeed).toString('hex')}\n`, { mode: 0o600 })
    const next = mlDsaDigestKey({ pqSeed: nextSeed })
    const seeds = ['--pq-seed-file', seedFile, '--pq-seed-file', nextSeedFile]
    const node = await startCli(base(['--signature-scheme', 'ml-dsa-65', ...seeds]).slice(2), {
      command: ['signer', 'serve'],
      ready: /"listen":"(tls:\/\/[^"]+)"/,
      timeoutMs: 60_000,
    })
    live.push(node)
    const opts: RemoteSignerOptions = {
      chainId: 1337n,
      url: node.url,
      tls: {
        ca: readFileSync(join(tls, 'ca.pem'), 'utf8'),
        cert: readFileSync(join(tls, 'node1.pem'), 'utf8'),
        key: readFileSync(join(tls, 'node1-key.pem'), 'utf8'),
      },
      timeoutMs: 5_000,
      address: key.address,
    }
    const secp = await RemoteSigner.connect(opts, { logger: silentLogger }).then(
      () => null,
      (e: unknown) => e,
    )
    expect(String((secp as Error).message)).toMatch(/signs ml-dsa-65 signatures, this node's chain uses secp256k1/)
    const client = await RemoteSigner.connect(
      {
        ...opts,
        scheme: 'ml-dsa-65',
        nextAddresses: [next.address],
        // The genesis registers the current key only: the next one comes from the sets.
        pqPublicKeyOf: (a) => (bytesToHex(a) === bytesToHex(key.address) ? key.pqPublicKey : null),
      },
      { logger: silentLogger },
    )
    clients.push(client)
    expect(bytesToHex(client.address)).toBe(bytesToHex(key.address))
    const vote = { type: MsgType.PRECOMMIT, height: 3, round: 0, blockHash: new Uint8Array(32).fill(1) }
    const signed = await client.signVote(vote)
    if (!('signature' in signed)) throw new Error(signed.refused)
    expect(signed.signature.length).toBe(3309)
    expect(verifyVoteSignature('ml-dsa-65', voteDigest(1337n, vote), signed.signature, key)).toEqual({ ok: true })
    const conflicting = await client.signVote({ ...vote, blockHash: new Uint8Array(32).fill(2) })
    expect(conflicting).toHaveProperty('refused')
    expect(isCairnError(secp)).toBe(true)
    // The chain rotated at height 10: the next key signs there, checked against that set's key.
    const member = (k: typeof key) => [{ address: k.address, votingPower: 1n, pqPublicKey: k.pqPublicKey }]
    client.followValidatorSets((h) => ValidatorSet.create(member(h < 10 ? key : next), 'ml-dsa-65'))
    const rotated = { ...vote, height: 10 }
    const byNext = await client.signVote(rotated)
    if (!('signature' in byNext)) throw new Error(byNext.refused)
    expect(verifyVoteSignature('ml-dsa-65', voteDigest(1337n, rotated), byNext.signature, next)).toEqual({ ok: true })
  }, 120_000)

  it.skipIf(missing !== null)(
    'a hybrid signer with the secp256k1 key on SoftHSM2 and the seed in a file signs 3,374-byte votes',
    async () => {
      hsm.initToken('signer', '1234')
      writeFileSync(join(dir, 'pin'), '1234\n', { mode: 0o600 })
      process.env.SOFTHSM2_CONF = hsm.conf
      const t = await Pkcs11Token.open({ module: SOFTHSM_MODULE, token: 'signer', pin: '1234' })
      const tokenAddress = t.generateKey('validator-h').address
      t.close()
      if (tokenAddress === null) throw new Error('the token key has no address')
      const seed = new Uint8Array(32).fill(9)
      const seedFile = join(dir, 'hybrid.mldsa.seed')
      writeFileSync(seedFile, `${Buffer.from(seed).toString('hex')}\n`, { mode: 0o600 })
      // The same key pair in this process, for its address and ML-DSA public key only.
      const expected = hybridDigestKey({
        secpKey: { address: tokenAddress, sign: () => new Uint8Array(65) },
        pqSeed: seed,
      })
      const node = await startCli(
        base([
          '--signature-scheme',
          'hybrid',
          '--hsm-key',
          'validator-h',
          '--hsm-module',
          SOFTHSM_MODULE,
          '--hsm-token',
          'signer',
          '--hsm-pin-file',
          join(dir, 'pin'),
          '--pq-seed-file',
          seedFile,
          '--db',
          join(dir, 'db-hybrid'),
        ]).slice(2),
        {
          command: ['signer', 'serve'],
          ready: /"listen":"(tls:\/\/[^"]+)"/,
          timeoutMs: 60_000,
          env: { SOFTHSM2_CONF: hsm.conf },
        },
      )
      live.push(node)
      const client = await RemoteSigner.connect(
        {
          chainId: 1337n,
          url: node.url,
          tls: {
            ca: readFileSync(join(tls, 'ca.pem'), 'utf8'),
            cert: readFileSync(join(tls, 'node1.pem'), 'utf8'),
            key: readFileSync(join(tls, 'node1-key.pem'), 'utf8'),
          },
          timeoutMs: 5_000,
          scheme: 'hybrid',
          pqPublicKeyOf: (a) => (bytesToHex(a) === bytesToHex(expected.address) ? expected.pqPublicKey : null),
        },
        { logger: silentLogger },
      )
      clients.push(client)
      expect(bytesToHex(client.address)).toBe(bytesToHex(tokenAddress))
      const vote = { type: MsgType.PREVOTE, height: 5, round: 1, blockHash: new Uint8Array(32).fill(3) }
      const signed = await client.signVote(vote)
      if (!('signature' in signed)) throw new Error(signed.refused)
      expect(signed.signature.length).toBe(3374)
      expect(verifyVoteSignature('hybrid', voteDigest(1337n, vote), signed.signature, expected)).toEqual({ ok: true })
    },
    120_000,
  )
})
