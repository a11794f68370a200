// A 4-validator devnet (`cairn devnet init` + `cairn devnet start`) whose validators all sign
// outside their node processes, as issue 56 asks: validators 1 and 2 through one
// `cairn signer serve` process (their keys in keystores), validator 3 through a second signer
// process whose key lives on a SoftHSM2 token, and validator 4 in its own node but on the same
// token (`bft.signer = { kind = "hsm", … }`). No node's datadir keeps a validator key, and node 4's
// identity key is on the token too (`p2p.identity = { kind = "hsm", … }`): the other three complete
// their handshakes with it under the peer id they were given. The chain finalizes with every
// validator's precommits in its certificates, each recovering to its validator. Before that,
// `cairn start` with a wrong PIN exits non-zero with one clear line.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MsgType, recoverSigner, voteDigest } from '@cairn/consensus'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, softHsmMissing } from '../../../keys/test/hsm/softhsm.ts'
import { rpc, runCli } from '../cli/run-cli.ts'
import { CairnProcesses, freePortRange, initDevnet, waitFor } from './harness.ts'

const missing = softHsmMissing()
if (missing) console.warn(`skipping the SoftHSM2 devnet: ${missing}`)

const hsm = makeSoftHsm('cairn-devnet-hsm-')
const dir = hsm.dir
const env = { SOFTHSM2_CONF: hsm.conf }
const procs = new CairnProcesses(env)
afterAll(() => {
  procs.killAll()
  hsm.remove()
})

const hsmTable = (table: string, pinFile: string, label: string) =>
  `\n[${table}]\nkind = "hsm"\nmodule = ${JSON.stringify(SOFTHSM_MODULE)}\ntoken = "devnet"\npinFile = ${JSON.stringify(pinFile)}\nkey = "${label}"\n`

describe.skipIf(missing !== null)('a devnet signing through two remote signers and a SoftHSM2 token', () => {
  it('refuses a wrong PIN at start, then finalizes with all four validators signing outside their nodes', async () => {
    const dn = join(dir, 'dn')
    const { base } = await initDevnet(dn)
    const [portA, portB] = [await freePortRange(1), await freePortRange(1)]
    hsm.initToken('devnet', '1234')
    writeFileSync(join(dir, 'pin'), '1234\n', { mode: 0o600 })
    writeFileSync(join(dir, 'bad-pin'), '9999\n', { mode: 0o600 })
    writeFileSync(join(dir, 'pw'), 'devnet signer\n', { mode: 0o600 })
    const tokenArgs = ['--module', SOFTHSM_MODULE, '--token', 'devnet', '--pin-file', join(dir, 'pin')]
    const keyFile = (i: number) => join(dn, `node-${i}`, 'keys', 'validator.key')
    const address = (i: number) =>
      privateKeyToAccount(`0x${readFileSync(keyFile(i), 'utf8').trim()}`).address.toLowerCase()
    const v = [1, 2, 3, 4].map(address)

    // Keys 1 and 2 into keystores for signer A; keys 3 and 4 onto the token. Every file leaves its datadir.
    const keystores: string[] = []
    for (const i of [1, 2]) {
      const imported = await runCli([
        'signer',
        'import-key',
        '--key-file',
        keyFile(i),
        '--out',
        join(dir, 'signer-a-keys'),
        '--password-file',
        join(dir, 'pw'),
        '--scrypt-n',
        '1024',
      ])
      expect(imported.code, imported.stderr).toBe(0)
      keystores.push(/Keystore: (\S+)/.exec(imported.stdout)?.[1] as string)
    }
    for (const i of [3, 4]) {
      const imported = await runCli(
        ['signer', 'hsm', 'import', ...tokenArgs, '--key-file', keyFile(i), '--label', `validator-${i}`],
        { env },
      )
      expect(imported.code, imported.stderr).toBe(0)
    }
    // Node 4's identity key joins them: its peer id, in the others' bootnodes, stays the same.
    const identityFile = join(dn, 'node-4', 'keys', 'node.key')
    const idImport = await runCli(
      ['signer', 'hsm', 'import', ...tokenArgs, '--key-file', identityFile, '--label', 'node-4-identity'],
      { env },
    )
    expect(idImport.code, idImport.stderr).toBe(0)
    renameSync(identityFile, join(dir, 'node-4-identity.key.offline'))
    const exported = await runCli(['signer', 'hsm', 'export', ...tokenArgs, '--label', 'node-4-identity'], { env })
    expect(exported.code, exported.stderr).toBe(0)
    const peer4 = /PeerId:\s+(\S+)/.exec(exported.stdout)?.[1] as string
    expect(readFileSync(join(dn, 'node-1.toml'), 'utf8')).toContain(`/p2p/${peer4}`)
    for (const i of [1, 2, 3, 4]) renameSync(keyFile(i), join(dir, `validator-${i}.key.offline`))
    const listed = await runCli(['signer', 'hsm', 'list', ...tokenArgs, '--json'], { env })
    expect(listed.code, listed.stderr).toBe(0)
    expect(
      (JSON.parse(listed.stdout) as { label: string; address: string }[])
        .filter((k) => k.label.startsWith('validator-'))
        .map((k) => [k.label, k.address.toLowerCase()])
        .sort(),
    ).toEqual([
      ['validator-3', v[2]],
      ['validator-4', v[3]],
    ])

    // Signer A (validators 1 and 2, keystores) and signer B (validator 3, on the token), over mutual TLS.
    // A signer holding several keys is told which one a node is (`address`).
    const tls = join(dir, 'tls')
    const certs = await runCli([
      'signer',
      'certs',
      '--out',
      tls,
      '--client',
      'node-1',
      '--client',
      'node-2',
      '--client',
      'node-3',
    ])
    expect(certs.code, certs.stderr).toBe(0)
    const serve = (port: number, db: string, keys: string[], clients: string[]) =>
      procs.start([
        'signer',
        'serve',
        '--chain-id',
        '1337',
        '--listen',
        `127.0.0.1:${port}`,
        ...keys,
        '--tls-cert',
        join(tls, 'signer.pem'),
        '--tls-key',
        join(tls, 'signer-key.pem'),
        ...clients.flatMap((c) => ['--client', join(tls, `${c}.pem`)]),
        '--db',
        join(dir, db),
      ])
    const signerA = serve(
      portA,
      'signer-a-db',
      [...keystores.flatMap((k) => ['--keystore', k]), '--password-file', join(dir, 'pw')],
      ['node-1', 'node-2'],
    )
    const signerB = serve(
      portB,
      'signer-b-db',
      [
        '--hsm-key',
        'validator-3',
        '--hsm-module',
        SOFTHSM_MODULE,
        '--hsm-token',
        'devnet',
        '--hsm-pin-file',
        join(dir, 'pin'),
      ],
      ['node-3'],
    )
    for (const s of [signerA, signerB])
      await waitFor(async () => /remote signer listening/.test(s.out()), 90_000, 'a remote signer', s.out)

    const configOf = (i: number) =>
      readFileSync(join(dn, `node-${i}.toml`), 'utf8').replace(/^validator = true$/m, 'validator = false')
    const remoteTable = (i: number, port: number) =>
      `\n[bft.signer]\nkind = "remote"\nurl = "tls://127.0.0.1:${port}"\nca = ${JSON.stringify(join(tls, 'ca.pem'))}\ncert = ${JSON.stringify(join(tls, `node-${i}.pem`))}\nkey = ${JSON.stringify(join(tls, `node-${i}-key.pem`))}\naddress = "${v[i - 1]}"\n`
    for (const [i, port] of [
      [1, portA],
      [2, portA],
      [3, portB],
    ] as const)
      writeFileSync(join(dn, `node-${i}.toml`), `${configOf(i)}${remoteTable(i, port)}`)
    const node4 = configOf(4)
    writeFileSync(
      join(dir, 'node-4-bad-pin.toml'),
      `${node4}${hsmTable('bft.signer', join(dir, 'bad-pin'), 'validator-4')}${hsmTable('p2p.identity', join(dir, 'bad-pin'), 'node-4-identity')}`,
    )
    writeFileSync(
      join(dn, 'node-4.toml'),
      `${node4}${hsmTable('bft.signer', join(dir, 'pin'), 'validator-4')}${hsmTable('p2p.identity', join(dir, 'pin'), 'node-4-identity')}`,
    )

    // A wrong PIN: a start error, one clear line, before the node starts.
    const bad = await runCli(['start', '--config', join(dir, 'node-4-bad-pin.toml')], { env, timeoutMs: 90_000 })
    expect(bad.code).not.toBe(0)
    expect(bad.code).not.toBeNull()
    expect(bad.listening).toBe(false)
    const errors = bad.stderr.split('\n').filter((l) => l.startsWith('error:'))
    expect(errors).toEqual([expect.stringMatching(/^error: HSM token "devnet" refused the PIN \(check the PIN file/)])

    const devnet = procs.start(['devnet', 'start', '--dir', dn])
    const urls = [0, 1, 2, 3].map((k) => `http://127.0.0.1:${base + k}`)
    const finalized = async (url: string) =>
      BigInt(((await rpc(url, 'eth_getBlockByNumber', ['finalized', false])) as { number: string }).number)
    await waitFor(
      async () => (await Promise.all(urls.map(finalized))).every((n) => n >= 8n),
      300_000,
      'eight finalized blocks on every node',
      devnet.out,
    )
    expect(devnet.out()).toMatch(/hsm signer ready/)
    // Node 4 is known by the token's identity key, every other node is connected to it, and no key
    // file was made in its datadir.
    expect(devnet.out()).toMatch(/hsm node identity ready/)
    expect(((await rpc(urls[3] as string, 'admin_nodeInfo', [])) as { id: string }).id).toBe(peer4)
    for (const url of urls.slice(0, 3)) {
      const peers = (await rpc(url, 'admin_peers', [])) as { id: string }[]
      expect(
        peers.map((p) => p.id),
        url,
      ).toContain(peer4)
    }
    expect(existsSync(identityFile)).toBe(false)
    expect(devnet.out()).toMatch(/remote signer connected/)

    // Every certificate signature recovers to its listed validator; each validator signed some.
    const signed = new Map<string, number>()
    for (let n = 1; n <= 8; n++) {
      const c = (await rpc(urls[0] as string, 'cairn_getCommit', [`0x${n.toString(16)}`])) as {
        height: string
        round: string
        blockHash: string
        signatures: { validator: string | null; signature: string }[]
      }
      const vote = {
        type: MsgType.PRECOMMIT,
        height: Number(c.height),
        round: Number(c.round),
        blockHash: hexToBytes(c.blockHash as `0x${string}`),
      }
      for (const s of c.signatures) {
        const by = recoverSigner(voteDigest(1337n, vote), hexToBytes(s.signature as `0x${string}`))
        expect(by && bytesToHex(by)).toBe(s.validator?.toLowerCase())
        const who = s.validator?.toLowerCase() ?? ''
        signed.set(who, (signed.get(who) ?? 0) + 1)
      }
    }
    // A certificate needs > 2/3 of the power (3 of 4): a validator may miss some heights, never all 8.
    for (const a of v) expect(signed.get(a) ?? 0, `precommits of ${a}`).toBeGreaterThanOrEqual(1)
    // Each signer's protection record follows the heights it signed; node 4's signer state too.
    for (const [db, a] of [
      ['signer-a-db', v[0]],
      ['signer-a-db', v[1]],
      ['signer-b-db', v[2]],
    ] as const) {
      const record = JSON.parse(readFileSync(join(dir, db, `1337-${a}.json`), 'utf8')) as { height: number }
      expect(record.height, `${db} record of ${a}`).toBeGreaterThanOrEqual(3)
    }
    const state = JSON.parse(readFileSync(join(dn, 'node-4', 'keys', 'validator.state.json'), 'utf8')) as {
      height: number
    }
    expect(state.height).toBeGreaterThanOrEqual(3)
  }, 480_000)
})
