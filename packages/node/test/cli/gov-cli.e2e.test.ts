// `cairn gov` / `cairn staking` transaction commands as a user runs them, against a real node: a dev
// chain (`cairn start --dev`) whose genesis holds the staking and governance system contracts,
// so blocks are mined when the test says (evm_setAutomine false, evm_mine).
// 1. Two `cairn gov propose` in the same block each print the id their own receipt logged (issue 66:
//    both printed `proposalCount()` read afterwards, the same number, and votes went astray).
// 2. A transaction the node refuses at its gas estimate (an account that can pay the deposit but
//    not the gas) prints one line, `error: submitProposal not sent: …`, and exits 2 (it printed a
//    viem stack trace).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { devGenesis } from '@cairn/chain'
import { addStakingGenesis } from '@cairn/consensus/staking'
import { GOVERNANCE_ADDRESS, governance } from '@cairn/contracts'
import { type Abi, createPublicClient, type Hex, http, parseEther } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_DEV_MNEMONIC, devAccounts } from '../../src/dev-accounts.ts'
import { type RunningNode, rpc, runCli, startCli } from './run-cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-gov-cli-'))
let node: RunningNode

beforeAll(async () => {
  const accounts = devAccounts(DEFAULT_DEV_MNEMONIC, 10).map((a) => a.address as Hex)
  const genesis = devGenesis({ chainId: 1337n, accounts, timestamp: BigInt(Math.floor(Date.now() / 1000)) }) as {
    config: Record<string, unknown>
    alloc: Record<string, unknown>
  }
  // The devnet's contracts (one validator, dev account 9), on a dev engine: no config.cairn.bft.
  await addStakingGenesis(genesis, { chainId: 1337n, validators: [accounts[9] as Hex], blockTimeMs: 1000 })
  delete genesis.config.cairn
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesis))
  node = await startCli(['--dev', '--genesis', join(dir, 'genesis.json'), '--ephemeral', '--http.port', '0'], {
    timeoutMs: 120_000,
  })
}, 180_000)

afterAll(async () => {
  await node?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const propose = (account: number, title: string) =>
  runCli(
    [
      'gov',
      'propose',
      '--rpc',
      node.url,
      '--dev-account',
      String(account),
      '--title',
      title,
      '--deposit',
      '10',
      '--gas-limit',
      '40000000',
    ],
    { timeoutMs: 120_000 },
  )

describe('cairn gov transaction commands', { timeout: 240_000 }, () => {
  it('two proposals in one block: each `gov propose` prints its own id', async () => {
    await rpc(node.url, 'evm_setAutomine', [false])
    try {
      const runs = [propose(1, 'first'), propose(2, 'second')]
      // Both in the pool, then one block holds them.
      for (const until = Date.now() + 120_000; ; ) {
        const pending = BigInt(((await rpc(node.url, 'txpool_status')) as { pending: string }).pending)
        if (pending >= 2n) break
        if (Date.now() > until) throw new Error('the two proposals never reached the pool')
        await new Promise((r) => setTimeout(r, 100))
      }
      await rpc(node.url, 'evm_mine')
      const [a, b] = await Promise.all(runs)
      for (const r of [a, b]) expect(r?.code, r?.stderr).toBe(0)
      const idOf = (out: string) => BigInt(/^proposal (\d+): voting until block \d+$/m.exec(out)?.[1] ?? '0')
      const blockOf = (out: string) => /in block (\d+)/.exec(out)?.[1]
      expect(blockOf(a?.stdout ?? '')).toBe(blockOf(b?.stdout ?? ''))
      const ids = [idOf(a?.stdout ?? ''), idOf(b?.stdout ?? '')]
      expect(new Set(ids).size, `${a?.stdout}\n${b?.stdout}`).toBe(2)
      // Each id is the proposal its own account submitted, with its title.
      const client = createPublicClient({ transport: http(node.url) })
      const accounts = devAccounts(DEFAULT_DEV_MNEMONIC, 3)
      for (const [k, id] of ids.entries()) {
        const p = (await client.readContract({
          address: GOVERNANCE_ADDRESS as Hex,
          abi: governance.abi as Abi,
          functionName: 'getProposal',
          args: [id],
        })) as { proposer: string; title: string }
        expect({ proposer: p.proposer.toLowerCase(), title: p.title }).toEqual({
          proposer: accounts[k + 1]?.address.toLowerCase(),
          title: k === 0 ? 'first' : 'second',
        })
      }
    } finally {
      await rpc(node.url, 'evm_setAutomine', [true])
    }
  })

  it('a transaction the node refuses at its gas estimate: one line and exit 2', async () => {
    // An account holding the deposit and nothing for gas: the simulation (an eth_call) passes, the
    // node's gas estimate (with the fees) refuses.
    const key = `0x${'6b'.repeat(32)}` as Hex
    const keyFile = join(dir, 'poor.key')
    writeFileSync(keyFile, key.slice(2))
    chmodSync(keyFile, 0o600)
    await rpc(node.url, 'anvil_setBalance', [privateKeyToAccount(key).address, `0x${parseEther('10').toString(16)}`])
    const r = await runCli(
      [
        'gov',
        'propose',
        '--rpc',
        node.url,
        '--private-key-file',
        keyFile,
        '--title',
        'poor',
        '--deposit',
        '10',
        '--gas-limit',
        '40000000',
      ],
      { timeoutMs: 120_000 },
    )
    expect(r.code, r.stderr).toBe(2)
    const lines = r.stderr.trim().split('\n')
    expect(lines, r.stderr).toHaveLength(1)
    expect(lines[0]).toMatch(/^error: submitProposal not sent: .*(insufficient funds|exceeds the balance)/i)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
