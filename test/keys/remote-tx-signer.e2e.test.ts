/**
 * Transaction keys on a remote signer, as a user runs them: `cairn signer serve --tx-keystore`
 * holds a funded key under a policy (creations allowed, calls to one address only), and
 * `cairn arb deploy` and `cairn reserves registry deploy` sign through it over mutual TLS with
 * `--remote-signer*`, as `cairn` processes against a real dev node: the chain shows the key's
 * account as owner. A call the policy does not allow (`registry publisher`) is refused with the
 * signer's reason and nothing is sent; an unpinned client certificate cannot connect.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { arbExecutor } from '@cairn/contracts'
import { encryptKeystore } from '@cairn/crypto'
import { type Abi, createPublicClient, type Hex, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningNode, runCli, startCli } from '../../packages/node/test/cli/run-cli.ts'
import { type StartedNode, startDevNode } from '../rpc/live-node.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-remote-tx-'))
const tls = join(dir, 'tls')
const live: RunningNode[] = []
const ALLOWED = `0x${'42'.repeat(20)}`

describe('transaction keys on a remote signer', () => {
  let node: StartedNode
  let signer: RunningNode
  let address: string
  const pub = () => createPublicClient({ transport: http(node.url) })
  const remote = (client = 'trader') => [
    '--remote-signer',
    signer.url as string,
    '--remote-signer-ca',
    join(tls, 'ca.pem'),
    '--remote-signer-cert',
    join(tls, `${client}.pem`),
    '--remote-signer-key',
    join(tls, `${client}-key.pem`),
  ]

  beforeAll(async () => {
    node = await startDevNode()
    const key = node.accounts[1]!.privateKey
    address = privateKeyToAccount(`0x${Buffer.from(key).toString('hex')}`).address
    writeFileSync(join(dir, 'trader.json'), JSON.stringify(await encryptKeystore(key, 'pw', { n: 1024 })), {
      mode: 0o600,
    })
    writeFileSync(join(dir, 'pw'), 'pw\n', { mode: 0o600 })
    const certs = await runCli(['signer', 'certs', '--out', tls, '--client', 'trader', '--client', 'stranger'])
    expect(certs.code, certs.stderr).toBe(0)
    signer = await startCli(
      [
        '--chain-id',
        '1337',
        '--listen',
        '127.0.0.1:0',
        '--tx-keystore',
        join(dir, 'trader.json'),
        '--password-file',
        join(dir, 'pw'),
        '--tx-allow-create',
        '--tx-allow-to',
        ALLOWED,
        '--tls-cert',
        join(tls, 'signer.pem'),
        '--tls-key',
        join(tls, 'signer-key.pem'),
        '--client',
        join(tls, 'trader.pem'),
        '--db',
        join(dir, 'db'),
      ],
      { command: ['signer', 'serve'], ready: /"listen":"(tls:\/\/[^"]+)"/, timeoutMs: 60_000 },
    )
    live.push(signer)
  }, 120_000)
  afterAll(async () => {
    for (const n of live) await n.stop()
    await node?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('deploys through the signer; a call its policy does not allow is refused and nothing is sent', async () => {
    const [arb, reg] = await Promise.all([
      runCli(['arb', 'deploy', '--rpc', node.url, ...remote()]),
      runCli(['reserves', 'registry', 'deploy', '--rpc', node.url, ...remote()]),
    ])
    expect(arb.code, arb.stderr).toBe(0)
    expect(reg.code, reg.stderr).toBe(0)
    const executor = /ArbExecutor (0x[0-9a-fA-F]{40}) \(owner (0x[0-9a-fA-F]{40})/.exec(arb.stdout)
    const owner = (await pub().readContract({
      address: executor?.[1] as Hex,
      abi: arbExecutor.abi as Abi,
      functionName: 'owner',
    })) as string
    expect(owner.toLowerCase()).toBe(address.toLowerCase())
    const deployed = JSON.parse(reg.stdout) as { address: string; owner: string }
    expect(deployed.owner.toLowerCase()).toBe(address.toLowerCase())
    const sent = await pub().getTransactionCount({ address: address as Hex })

    const [call, stranger] = await Promise.all([
      runCli([
        'reserves',
        'registry',
        'publisher',
        '--rpc',
        node.url,
        '--registry',
        deployed.address,
        '--allow',
        ALLOWED,
        ...remote(),
      ]),
      runCli(['arb', 'deploy', '--rpc', node.url, ...remote('stranger')]),
    ])
    expect(call.code, call.stdout).toBe(2)
    expect(call.stderr).toMatch(/refused the transaction: recipient 0x[0-9a-f]{40} is not allowed/)
    expect(stranger.code).not.toBe(0)
    expect(stranger.stderr).toMatch(/remote signer .* unreachable/)
    expect(await pub().getTransactionCount({ address: address as Hex })).toBe(sent)
    const log = signer.stdout()
    expect(log).toContain('signed a transaction')
    expect(log).toContain('refused a transaction')
  }, 120_000)
})
