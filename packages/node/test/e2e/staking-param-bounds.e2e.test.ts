// Governance refuses the parameters that stopped a devnet (issue 66), on real processes through
// the `cairn` CLI: on a 4-validator staking devnet with idle one-coin validators beside the four
// (any user can make them), `cairn gov propose` of `issuancePerBlock` 2^255 (the reward call
// overflowed), `downtimeJailSeconds` 2^64−1 (the first downtime jail overflowed), `maxValidators`
// 1,024 (the epoch update ran out of its system-call gas) and `minBaseFee` 2^255 (no transaction
// could be sent again) each exits 2 naming the parameter and its bound, and sends nothing; a change
// within the bounds is taken; the chain keeps finalizing blocks throughout.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GOVERNANCE_ADDRESS, governance, STAKING_ADDRESS, staking } from '@cairn/contracts'
import { type Abi, createPublicClient, createWalletClient, defineChain, type Hex, http, parseEther } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { rpc, runCli } from '../cli/run-cli.ts'
import { CairnProcesses, initDevnet, startDevnetNodes } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-param-bounds-'))
const procs = new CairnProcesses()
afterAll(() => {
  procs.killAll()
  rmSync(dir, { recursive: true, force: true })
})

const MNEMONIC = 'test test test test test test test test test test test junk'
const IDLE = 6

describe('governance refuses parameters that would stop the chain (4-validator devnet, cairn CLI)', () => {
  it('the four halting proposals are refused with the bound they break; the chain goes on', async () => {
    const dn = join(dir, 'dn')
    const { base } = await initDevnet(dn)
    const net = startDevnetNodes(procs, dn, base)
    const url = net.urls[0] as string
    await net.finalizedAtLeast(2n, 120_000, 'four nodes past block 2')

    // Idle validators: one coin each, consensus keys nobody runs (dev accounts 2..).
    const chain = defineChain({
      id: 1337,
      name: 'devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [url] } },
    })
    const client = createPublicClient({ chain, transport: http(url) })
    const hashes = await Promise.all(
      Array.from({ length: IDLE }, (_, i) => {
        const account = mnemonicToAccount(MNEMONIC, { addressIndex: i + 2 })
        const wallet = createWalletClient({ account, chain, transport: http(url) })
        const consensus = `0x${'1d'.repeat(19)}${(i + 1).toString(16).padStart(2, '0')}` as Hex
        return wallet.writeContract({
          address: STAKING_ADDRESS as Hex,
          abi: staking.abi as Abi,
          functionName: 'createValidator',
          args: [consensus, 0, 0, 0, 0n, 'idle'],
          value: parseEther('1'),
        })
      }),
    )
    for (const hash of hashes) {
      expect((await client.waitForTransactionReceipt({ hash, timeout: 60_000 })).status).toBe('success')
    }
    const candidates = (await client.readContract({
      address: STAKING_ADDRESS as Hex,
      abi: staking.abi as Abi,
      functionName: 'candidates',
    })) as Hex[]
    expect(candidates).toHaveLength(4 + IDLE)

    const propose = (title: string, change: string[]) =>
      runCli(['gov', 'propose', '--rpc', url, '--title', title, '--deposit', '10', '--dev-account', '0', ...change])
    const cases = [
      { change: ['--param', `staking.issuancePerBlock=${2n ** 255n}`], bound: 'issuancePerBlock must be <= 10^30 wei' },
      {
        change: ['--param', `staking.downtimeJailSeconds=${2n ** 64n - 1n}`],
        bound: 'downtimeJailSeconds must be <= 31536000',
      },
      { change: ['--param', 'staking.maxValidators=1024'], bound: 'maxValidators must be in 1..200' },
      { change: ['--min-base-fee', String(2n ** 255n)], bound: 'minBaseFee must be <= 100 gwei' },
    ]
    const before = BigInt((await rpc(url, 'eth_blockNumber')) as string)
    const results = await Promise.all(cases.map((c, i) => propose(`halt ${i + 1}`, c.change)))
    results.forEach((r, i) => {
      const c = cases[i] as (typeof cases)[number]
      expect(r.code, `${c.change.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2)
      expect(r.stderr).toContain('submitProposal refused: InvalidParams(')
      expect(r.stderr).toContain(c.bound)
      expect(r.stderr).not.toMatch(/\n\s+at /) // one error, no stack trace
    })
    const count = async () =>
      (await client.readContract({
        address: GOVERNANCE_ADDRESS as Hex,
        abi: governance.abi as Abi,
        functionName: 'proposalCount',
      })) as bigint
    expect(await count()).toBe(0n)

    // Within the bounds: taken (the refusals are the bounds, not the road).
    const ok = await propose('fifty seats', ['--param', 'staking.maxValidators=50'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/proposal 1: voting until block \d+/)
    expect(await count()).toBe(1n)

    await net.finalizedAtLeast(before + 3n, 60_000, 'three more finalized blocks after the refusals')
  }, 150_000)
})
