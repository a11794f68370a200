// A 4-validator hybrid devnet (`cairn devnet init --signature-scheme hybrid`, secp256k1 ‖ ML-DSA-65)
// whose validator 3 signs through `cairn signer serve --signature-scheme hybrid`: its key (as a
// keystore) and its ML-DSA seed leave node 3's datadir for the signer, node 3's config says
// `bft.signer = { kind = "remote", … }` over mutual TLS, and the chain finalizes with validator 3's
// 3,374-byte signatures in the certificates, valid under hybrid against the genesis's keys.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeBftExtra, ValidatorSet } from '@cairn/consensus'
import { HYBRID_SIGNATURE_BYTES, verifySchemeCertificate } from '@cairn/consensus/pq'
import { hexToBytes } from '@cairn/utils'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { rpc, runCli } from '../cli/run-cli.ts'
import { CairnProcesses, freePortRange, initDevnet, waitFor } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-remote-signer-hybrid-'))
const procs = new CairnProcesses()
afterAll(() => {
  procs.killAll()
  rmSync(dir, { recursive: true, force: true })
})
const cairn = (args: string[]) => procs.start(args)

interface GenesisBft {
  validators: { address: `0x${string}`; power: number; pqPublicKey: `0x${string}` }[]
}

describe('a hybrid devnet whose validator 3 signs through `cairn signer serve --signature-scheme hybrid`', () => {
  it('finalizes, with validator 3’s hybrid signatures (from the signer) in the certificates', async () => {
    const dn = join(dir, 'dn')
    const { base } = await initDevnet(dn, ['--signature-scheme', 'hybrid', '--no-staking'])
    const signerPort = await freePortRange(1)
    const keysDir = join(dn, 'node-3', 'keys')
    const keyFile = join(keysDir, 'validator.key')
    const v3 = privateKeyToAccount(`0x${readFileSync(keyFile, 'utf8').trim()}`).address.toLowerCase()

    // The key and the seed leave the node: the key into a keystore, the seed beside it (0600).
    writeFileSync(join(dir, 'pw'), 'devnet signer\n', { mode: 0o600 })
    const tls = join(dir, 'tls')
    const certs = await runCli(['signer', 'certs', '--out', tls, '--client', 'node-3'])
    expect(certs.code, certs.stderr).toBe(0)
    const imported = await runCli([
      'signer',
      'import-key',
      '--key-file',
      keyFile,
      '--out',
      join(dir, 'signer-keys'),
      '--password-file',
      join(dir, 'pw'),
      '--scrypt-n',
      '1024',
    ])
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toMatch(/ML-DSA seed: .*validator\.mldsa\.seed/)
    const keystore = /Keystore: (\S+)/.exec(imported.stdout)?.[1] as string
    renameSync(keyFile, join(dir, 'validator-3.key.offline'))
    const seed = join(dir, 'signer-keys', 'validator-3.mldsa.seed')
    renameSync(join(keysDir, 'validator.mldsa.seed'), seed)
    expect(existsSync(join(keysDir, 'validator.mldsa.seed'))).toBe(false)

    const serve = (extra: string[]) => [
      'signer',
      'serve',
      '--chain-id',
      '1337',
      '--listen',
      `127.0.0.1:${signerPort}`,
      '--keystore',
      keystore,
      '--password-file',
      join(dir, 'pw'),
      '--tls-cert',
      join(tls, 'signer.pem'),
      '--tls-key',
      join(tls, 'signer-key.pem'),
      '--client',
      join(tls, 'node-3.pem'),
      '--db',
      join(dir, 'signer-db'),
      ...extra,
    ]
    // A hybrid signer without the seed is a start error that says how to pair them.
    const unpaired = await runCli(serve(['--signature-scheme', 'hybrid']))
    expect(unpaired.code).not.toBe(0)
    expect(unpaired.stderr).toMatch(/one --pq-seed-file per validator key \(got 1 keystores, 0 HSM keys and 0 seeds\)/)

    const signer = cairn(serve(['--signature-scheme', 'hybrid', '--pq-seed-file', seed]))
    await waitFor(async () => /remote signer listening/.test(signer.out()), 60_000, 'the signer', signer.out)
    expect(signer.out()).toMatch(/"scheme":"hybrid"/)

    // Node 3 signs through it (and has no validator key or seed of its own any more).
    const toml = readFileSync(join(dn, 'node-3.toml'), 'utf8').replace(/^validator = true$/m, 'validator = false')
    writeFileSync(
      join(dn, 'node-3.toml'),
      `${toml}\n[bft.signer]\nkind = "remote"\nurl = "tls://127.0.0.1:${signerPort}"\nca = ${JSON.stringify(join(tls, 'ca.pem'))}\ncert = ${JSON.stringify(join(tls, 'node-3.pem'))}\nkey = ${JSON.stringify(join(tls, 'node-3-key.pem'))}\n`,
    )

    const devnet = cairn(['devnet', 'start', '--dir', dn])
    const urls = [0, 1, 2, 3].map((k) => `http://127.0.0.1:${base + k}`)
    const finalized = async (url: string) =>
      BigInt(((await rpc(url, 'eth_getBlockByNumber', ['finalized', false])) as { number: string }).number)
    await waitFor(
      async () => (await Promise.all(urls.map(finalized))).every((n) => n >= 6n),
      300_000,
      'six finalized blocks on every node',
      devnet.out,
    )
    expect(devnet.out()).toMatch(/remote signer connected/)
    // The signer signed validator 3's votes: its record is past height 3.
    const record = JSON.parse(readFileSync(join(dir, 'signer-db', `1337-${v3}.json`), 'utf8')) as { height: number }
    expect(record.height).toBeGreaterThanOrEqual(3)

    const genesis = JSON.parse(readFileSync(join(dn, 'genesis.json'), 'utf8')) as {
      config: { cairn: { bft: GenesisBft } }
    }
    const set = ValidatorSet.create(
      genesis.config.cairn.bft.validators.map((v) => ({
        address: hexToBytes(v.address),
        votingPower: BigInt(v.power),
        pqPublicKey: hexToBytes(v.pqPublicKey),
      })),
      'hybrid',
    )
    const v3Index = set.indexOf(hexToBytes(v3 as `0x${string}`))
    expect(v3Index).toBeGreaterThanOrEqual(0)
    // Block h+1 carries the certificate of h; validator 3 signed in some of them (a certificate
    // holds the precommits the proposer had: usually all four, at least three).
    const last = await finalized(urls[0] as string)
    let byV3 = 0
    for (let h = 1n; h < last; h++) {
      const child = (await rpc(urls[0] as string, 'eth_getBlockByNumber', [`0x${(h + 1n).toString(16)}`, false])) as {
        extraData: `0x${string}`
      }
      const cert = decodeBftExtra(hexToBytes(child.extraData), 'hybrid').parentCertificate
      if (cert === null) throw new Error(`block ${h + 1n} carries no certificate`)
      for (const s of cert.signatures) expect(s.signature.length).toBe(HYBRID_SIGNATURE_BYTES)
      verifySchemeCertificate(cert, 'hybrid', set, (a) => set.pqKeyOf(a), 1337n)
      byV3 += cert.signatures.filter((s) => s.validatorIndex === v3Index).length
    }
    expect(HYBRID_SIGNATURE_BYTES).toBe(3374)
    expect(byV3).toBeGreaterThan(0)
  }, 420_000)
})
