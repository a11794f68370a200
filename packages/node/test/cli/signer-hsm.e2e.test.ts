/**
 * `cairn signer hsm` on a real SoftHSM2 token, as processes: generate, list, export and a rotation
 * proof signed on the token (it recovers to the new key, as the staking contract checks); a taken
 * label, an absent key and a wrong PIN are clear errors; and `cairn signer serve --hsm-key` holds
 * its key on the token and signs a RemoteSigner client's votes with it, refusing the conflict.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MsgType, recoverSigner, rotationDigest, voteDigest } from '@cairn/consensus'
import { RemoteSigner } from '@cairn/consensus/privval'
import { STAKING_ADDRESS } from '@cairn/contracts'
import { keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes, silentLogger } from '@cairn/utils'
import { afterAll, describe, expect, it } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, softHsmMissing } from '../../../keys/test/hsm/softhsm.ts'
import { type RunningNode, runCli, startCli } from './run-cli.ts'

const missing = softHsmMissing()
if (missing) console.warn(`skipping the cairn signer hsm tests: ${missing}`)

const hsm = makeSoftHsm('cairn-signer-hsm-')
const dir = hsm.dir
const env = { SOFTHSM2_CONF: hsm.conf }
const live: RunningNode[] = []
const clients: RemoteSigner[] = []
afterAll(async () => {
  for (const c of clients) c.close()
  for (const n of live) await n.stop()
  hsm.remove()
})

const token = () => ['--module', SOFTHSM_MODULE, '--token', 'ops', '--pin-file', join(dir, 'pin')]
const hsmCli = (args: string[]) => runCli(['signer', 'hsm', ...args], { env })
const field = (out: string, name: string) => new RegExp(`${name}:\\s+(\\S+)`).exec(out)?.[1] as string

describe.skipIf(missing !== null)('cairn signer hsm', () => {
  it('generates, lists, exports and signs a rotation proof on the token; bad input is a clear error', async () => {
    hsm.initToken('ops', '1234')
    writeFileSync(join(dir, 'pin'), '1234', { mode: 0o600 })
    writeFileSync(join(dir, 'bad-pin'), '0000', { mode: 0o600 })

    const gen = await hsmCli(['generate', ...token(), '--label', 'next'])
    expect(gen.code, gen.stderr).toBe(0)
    const address = field(gen.stdout, 'Address')
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/)

    const list = await hsmCli(['list', ...token()])
    expect(list.stdout).toBe(`next\t${address}\n`)
    const exp = await hsmCli(['export', ...token(), '--label', 'next'])
    expect(field(exp.stdout, 'Address')).toBe(address)
    expect(field(exp.stdout, 'PublicKey')).toMatch(/^0x04[0-9a-f]{128}$/)
    // A secp256k1 libp2p peer id (an identity multihash of the compressed key: `16Uiu2…`).
    expect(field(exp.stdout, 'PeerId')).toMatch(/^16Uiu2[1-9A-HJ-NP-Za-km-z]{47}$/)

    const operator = `0x${'ab'.repeat(20)}` as const
    const proof = await hsmCli([
      'rotation-proof',
      ...token(),
      '--label',
      'next',
      '--chain-id',
      '1337',
      '--operator',
      operator,
    ])
    expect(proof.code, proof.stderr).toBe(0)
    expect(field(proof.stdout, 'NewConsensusAddress')).toBe(address)
    const digest = rotationDigest(
      1337n,
      hexToBytes(STAKING_ADDRESS),
      hexToBytes(operator),
      hexToBytes(address as `0x${string}`),
    )
    const by = recoverSigner(digest, hexToBytes(field(proof.stdout, 'Proof') as `0x${string}`))
    expect(by && bytesToHex(by)).toBe(address.toLowerCase())

    const taken = await hsmCli(['generate', ...token(), '--label', 'next'])
    expect([taken.code, taken.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(/^error: HSM token "ops" already holds an object labelled "next"/),
    ])
    const absent = await hsmCli(['export', ...token(), '--label', 'nope'])
    expect([absent.code, absent.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(/^error: HSM token "ops" holds no private key labelled "nope"/),
    ])
    const wrongPin = await hsmCli([
      'list',
      '--module',
      SOFTHSM_MODULE,
      '--token',
      'ops',
      '--pin-file',
      join(dir, 'bad-pin'),
    ])
    expect([wrongPin.code, wrongPin.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(/^error: HSM token "ops" refused the PIN/),
    ])
  }, 120_000)

  it('`signer serve --hsm-key` signs with the key on the token for a RemoteSigner client', async () => {
    const key = keccak256(new TextEncoder().encode('signer-hsm-e2e'))
    writeFileSync(join(dir, 'validator.key'), `${Buffer.from(key).toString('hex')}\n`, { mode: 0o600 })
    const imported = await hsmCli([
      'import',
      ...token(),
      '--key-file',
      join(dir, 'validator.key'),
      '--label',
      'validator',
    ])
    expect(imported.code, imported.stderr).toBe(0)
    const certs = await runCli(['signer', 'certs', '--out', join(dir, 'tls'), '--client', 'node1'])
    expect(certs.code, certs.stderr).toBe(0)
    const tls = join(dir, 'tls')
    const signer = await startCli(
      [
        '--chain-id',
        '1337',
        '--listen',
        '127.0.0.1:0',
        '--hsm-module',
        SOFTHSM_MODULE,
        '--hsm-token',
        'ops',
        '--hsm-pin-file',
        join(dir, 'pin'),
        '--hsm-key',
        'validator',
        '--tls-cert',
        join(tls, 'signer.pem'),
        '--tls-key',
        join(tls, 'signer-key.pem'),
        '--client',
        join(tls, 'node1.pem'),
        '--db',
        join(dir, 'db'),
      ],
      { command: ['signer', 'serve'], ready: /"listen":"(tls:\/\/[^"]+)"/, timeoutMs: 60_000, env },
    )
    live.push(signer)
    const client = await RemoteSigner.connect(
      {
        chainId: 1337n,
        url: signer.url,
        tls: {
          ca: readFileSync(join(tls, 'ca.pem'), 'utf8'),
          cert: readFileSync(join(tls, 'node1.pem'), 'utf8'),
          key: readFileSync(join(tls, 'node1-key.pem'), 'utf8'),
        },
        timeoutMs: 5_000,
      },
      { logger: silentLogger },
    )
    clients.push(client)
    expect(bytesToHex(client.address)).toBe(field(imported.stdout, 'Address').toLowerCase())
    const A = keccak256(new TextEncoder().encode('block A'))
    const vote = { type: MsgType.PRECOMMIT, height: 3, round: 0, blockHash: A }
    const signed = await client.signVote(vote)
    expect(signed).toHaveProperty('signature')
    const sig = (signed as { signature: Uint8Array }).signature
    expect(recoverSigner(voteDigest(1337n, vote), sig)).toEqual(client.address)
    const conflict = await client.signVote({ ...vote, blockHash: keccak256(new TextEncoder().encode('block B')) })
    expect(conflict).toHaveProperty('refused')
  }, 120_000)
})
