// A 4-validator devnet (`cairn devnet init` + `cairn devnet start`) whose validator 3 signs through
// a remote signer: its key is moved out of node 3's datadir into a keystore held by a
// `cairn signer serve` process, node 3's config says `bft.signer = { kind = "remote", … }` over
// mutual TLS, and the chain finalizes with validator 3's precommits in its certificates (the
// signer's protection database follows the heights it signed).
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { rpc, runCli } from '../cli/run-cli.ts'
import { CairnProcesses, freePortRange, initDevnet, waitFor } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-remote-signer-'))
const procs = new CairnProcesses()
afterAll(() => {
  procs.killAll()
  rmSync(dir, { recursive: true, force: true })
})
const cairn = (args: string[]) => procs.start(args)

describe('a devnet whose validator 3 signs through `cairn signer serve`', () => {
  it('finalizes, with validator 3 signing its votes through the remote signer', async () => {
    const dn = join(dir, 'dn')
    const { base } = await initDevnet(dn)
    const signerPort = await freePortRange(1)
    const keyFile = join(dn, 'node-3', 'keys', 'validator.key')
    const v3 = privateKeyToAccount(`0x${readFileSync(keyFile, 'utf8').trim()}`).address.toLowerCase()

    // The key leaves the node: into a keystore for the signer, the file moved out of the datadir.
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
    renameSync(keyFile, join(dir, 'validator-3.key.offline'))
    const keystore = /Keystore: (\S+)/.exec(imported.stdout)?.[1] as string

    const signer = cairn([
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
    ])
    await waitFor(async () => /remote signer listening/.test(signer.out()), 60_000, 'the signer', signer.out)

    // Node 3 signs through it (and has no validator key of its own any more).
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
    // The signer signed validator 3's votes: its record is past height 3.
    const record = JSON.parse(readFileSync(join(dir, 'signer-db', `1337-${v3}.json`), 'utf8')) as { height: number }
    expect(record.height).toBeGreaterThanOrEqual(3)
    // Validator 3 proposed some of the blocks (its proposals were signed by the signer too).
    const coinbases = new Set<string>()
    for (let n = 1n; n <= 6n; n++) {
      const b = (await rpc(urls[0] as string, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false])) as {
        miner: string
      }
      coinbases.add(b.miner.toLowerCase())
    }
    expect(coinbases.has(v3)).toBe(true)
    expect(devnet.out()).toMatch(/remote signer connected/)
  }, 420_000)
})
