/**
 * Transaction keys on an HSM, as a user runs them: a key generated on a real SoftHSM2 token (it
 * never leaves it), funded on a real Cairn dev node, then `cairn arb deploy` and `cairn reserves
 * registry deploy | publisher` signing with it through `--hsm-*` as `cairn` processes. The chain
 * shows the token's address as the owner of what they deployed. A wrong PIN, an absent key, a
 * half-given HSM and two key sources at once are clear errors, and nothing is sent.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { arbExecutor, reservesRegistry } from '@cairn/contracts'
import { type Abi, createPublicClient, createWalletClient, type Hex, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeSoftHsm, SOFTHSM_MODULE, softHsmMissing } from '../../packages/keys/test/hsm/softhsm.ts'
import { runCli } from '../../packages/node/test/cli/run-cli.ts'
import { type StartedNode, startDevNode } from '../rpc/live-node.ts'

const missing = softHsmMissing()
if (missing) console.warn(`skipping the HSM transaction key tests: ${missing}`)

const hsm = makeSoftHsm('cairn-hsm-accounts-')
const env = { SOFTHSM2_CONF: hsm.conf }
const cli = (args: string[]) => runCli(args, { env, cwd: hsm.dir })
const token = (pin = 'pin') => ['--module', SOFTHSM_MODULE, '--token', 'accounts', '--pin-file', join(hsm.dir, pin)]
const hsmKey = (label = 'trader', pin = 'pin') => [
  '--hsm-module',
  SOFTHSM_MODULE,
  '--hsm-token',
  'accounts',
  '--hsm-key',
  label,
  '--hsm-pin-file',
  join(hsm.dir, pin),
]

describe.skipIf(missing !== null)('transaction keys on a PKCS#11 token', () => {
  let node: StartedNode
  let address: Hex
  const pub = () => createPublicClient({ transport: http(node.url) })

  beforeAll(async () => {
    hsm.initToken('accounts', '1234')
    writeFileSync(join(hsm.dir, 'pin'), '1234\n', { mode: 0o600 })
    writeFileSync(join(hsm.dir, 'bad-pin'), '0000', { mode: 0o600 })
    node = await startDevNode()
    // the key is made on the token: nothing outside it ever holds the private key
    const gen = await cli(['signer', 'hsm', 'generate', ...token(), '--label', 'trader'])
    expect(gen.code, gen.stderr).toBe(0)
    address = /Address:\s+(0x[0-9a-fA-F]{40})/.exec(gen.stdout)?.[1] as Hex
    const funder = privateKeyToAccount(`0x${Buffer.from(node.accounts[0]!.privateKey).toString('hex')}`)
    const wallet = createWalletClient({ account: funder, transport: http(node.url) })
    const tx = await wallet.sendTransaction({ chain: null, to: address, value: parseEther('10') })
    await pub().waitForTransactionReceipt({ hash: tx })
  }, 120_000)
  afterAll(async () => {
    await node?.close()
    hsm.remove()
  })

  it('cairn arb deploy and cairn reserves registry deploy/publisher sign on the token', async () => {
    const [arb, reg] = await Promise.all([
      cli(['arb', 'deploy', '--rpc', node.url, ...hsmKey()]),
      cli(['reserves', 'registry', 'deploy', '--rpc', node.url, ...hsmKey()]),
    ])
    expect(arb.code, arb.stderr).toBe(0)
    expect(reg.code, reg.stderr).toBe(0)
    const executor = /ArbExecutor (0x[0-9a-fA-F]{40}) \(owner (0x[0-9a-fA-F]{40})/.exec(arb.stdout)
    expect(executor?.[2]?.toLowerCase()).toBe(address.toLowerCase())
    const owner = (await pub().readContract({
      address: executor?.[1] as Hex,
      abi: arbExecutor.abi as Abi,
      functionName: 'owner',
    })) as string
    expect(owner.toLowerCase()).toBe(address.toLowerCase())

    const deployed = JSON.parse(reg.stdout) as { address: Hex; owner: string }
    expect(deployed.owner.toLowerCase()).toBe(address.toLowerCase())
    const publisher = `0x${'42'.repeat(20)}`
    const allow = await cli([
      'reserves',
      'registry',
      'publisher',
      '--rpc',
      node.url,
      '--registry',
      deployed.address,
      '--allow',
      publisher,
      ...hsmKey(),
    ])
    expect(allow.code, allow.stderr).toBe(0)
    const allowed = await pub().readContract({
      address: deployed.address,
      abi: reservesRegistry.abi as Abi,
      functionName: 'isPublisher',
      args: [publisher],
    })
    expect(allowed).toBe(true)
    // every transaction came from the token's account, and they are all mined
    expect(await pub().getTransactionCount({ address })).toBe(3)
  }, 120_000)

  it('a wrong PIN, an absent key, half an HSM or two key sources: a clear error, nothing sent', async () => {
    const before = await pub().getTransactionCount({ address })
    const [pin, absent, half, both, regPin] = await Promise.all([
      cli(['arb', 'deploy', '--rpc', node.url, ...hsmKey('trader', 'bad-pin')]),
      cli(['arb', 'deploy', '--rpc', node.url, ...hsmKey('nope')]),
      cli(['arb', 'deploy', '--rpc', node.url, '--hsm-key', 'trader']),
      cli(['reserves', 'registry', 'deploy', '--rpc', node.url, ...hsmKey(), '--private-key-file', 'k']),
      cli(['reserves', 'registry', 'deploy', '--rpc', node.url, ...hsmKey('trader', 'bad-pin')]),
    ])
    for (const r of [pin, absent, half, both, regPin]) expect(r.code, r.stdout + r.stderr).not.toBe(0)
    expect(pin.stderr).toMatch(/PIN/)
    expect(regPin.stderr).toMatch(/PIN/)
    expect(absent.stderr).toMatch(/"nope"/)
    expect(half.stderr).toMatch(/needs --hsm-module, --hsm-token, --hsm-key and --hsm-pin-file/)
    expect(both.stderr).toMatch(/a key on an HSM and --private-key-file were both given/)
    for (const r of [pin, absent, half, both, regPin]) expect(r.stderr).not.toContain('1234')
    expect(await pub().getTransactionCount({ address })).toBe(before)
  }, 120_000)
})
