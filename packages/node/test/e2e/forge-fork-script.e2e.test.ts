// A Foundry project (packages/node/test/fixtures/forge-project) run by forge itself against a real
// `cairn start --dev --ephemeral`: `forge test --fork-url` reads state put on the node beforehand, and
// `forge script --broadcast` deploys a contract that the test then reads back from the node with viem;
// then both again against a Cairn fork of that node (`--fork-url`), which alone changes; and
// `forge script --broadcast` against a Cairn fork of an Anvil.
// Offline: foundry.toml points forge's `solc` at the `cairn-solc` shim.
//
// Needs a forge binary (see forgeBinary in harness.ts: FORGE_BIN, or `cd /tmp && npm i @foundry-rs/forge@1.7.1`);
// skipped with a message without one.
//
//   npx vitest run packages/node/test/e2e/forge-fork-script.e2e.test.ts
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Abi, type Address, getAddress, getContractAddress, type Hex, parseAbi } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHAIN_ID, forgeBinary, killAllNodes, type NodeHandle, REPO_ROOT, startNode } from './harness.ts'
import { devAccount, makeViemClients } from './helpers.ts'

const FIXTURE = join(REPO_ROOT, 'packages/node/test/fixtures/forge-project')
const SHIM = join(REPO_ROOT, 'packages/node/bin/cairn-solc.js')
const FORGE_TIMEOUT_MS = 60_000

const forge = forgeBinary()
if (forge === undefined) {
  console.warn(
    'skipping forge test --fork-url / forge script against Cairn: no forge binary found (set FORGE_BIN, or cd /tmp && npm i @foundry-rs/forge)',
  )
}

const counterAbi = parseAbi([
  'constructor(uint256 start)',
  'function number() view returns (uint256)',
  'function increment()',
])

interface ForgeArtifact {
  abi: Abi
  bytecode: { object: Hex }
  deployedBytecode: { object: Hex }
}

interface Broadcast {
  transactions: { transactionType: string; contractName: string | null; contractAddress: Address | null }[]
  receipts: { status: Hex; contractAddress: Address | null }[]
}

/** Runs forge in the project; kills it (and fails) if it outlives FORGE_TIMEOUT_MS. */
function runForge(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(forge as string, args, { cwd, env: { ...process.env, NO_COLOR: '1', ...env } })
    let output = ''
    const append = (d: Buffer) => {
      output += d.toString()
    }
    child.stdout.on('data', append)
    child.stderr.on('data', append)
    const timer = setTimeout(() => {
      output += `\n[test] forge ${args[0]} killed after ${FORGE_TIMEOUT_MS} ms\n`
      child.kill('SIGKILL')
    }, FORGE_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

describe.skipIf(forge === undefined)(
  'a Foundry project against Cairn (forge test --fork-url, forge script --broadcast)',
  () => {
    let cairn: NodeHandle
    let project: string
    let counter: ForgeArtifact

    beforeAll(async () => {
      project = mkdtempSync(join(tmpdir(), 'cairn-forge-project-'))
      for (const dir of ['src', 'test', 'script']) cpSync(join(FIXTURE, dir), join(project, dir), { recursive: true })
      writeFileSync(
        join(project, 'foundry.toml'),
        `[profile.default]\nsrc = "src"\ntest = "test"\nscript = "script"\nout = "out"\nsolc = "${SHIM}"\noffline = true\n`,
      )
      // Compile once, before the node exists: the tests then measure forge against the node, not solc.
      const build = await runForge(project, ['build'])
      expect(build.code, build.output).toBe(0)
      counter = JSON.parse(readFileSync(join(project, 'out/Counter.sol/Counter.json'), 'utf8')) as ForgeArtifact
      cairn = await startNode('cairn', { args: ['--ephemeral'] })
    }, 120_000)

    afterAll(async () => {
      await cairn?.stop()
      killAllNodes()
      for (const dir of [project, cairn?.datadir]) if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('forge test --fork-url reads a contract and a balance put on the node beforehand', async () => {
      const viem = makeViemClients(cairn.url)
      const deployer = devAccount(0).address
      const hash = await viem.unlocked0.deployContract({
        abi: counterAbi,
        bytecode: counter.bytecode.object,
        args: [41n],
      })
      const receipt = await viem.public.waitForTransactionReceipt({ hash })
      expect(receipt.status).toBe('success')
      const address = receipt.contractAddress as Address
      const forkBlock = await viem.public.getBlockNumber()
      const balance = await viem.public.getBalance({ address: deployer })

      const { code, output } = await runForge(project, ['test', '--fork-url', cairn.url], {
        COUNTER: address,
        DEPLOYER: deployer,
        DEPLOYER_BALANCE: balance.toString(),
        FORK_BLOCK: forkBlock.toString(),
      })
      expect(output).toMatch(/\[PASS\] test_ReadsForkedContract\(\)/)
      expect(output).toMatch(/\[PASS\] test_ReadsForkedBalance\(\)/)
      expect(output).toMatch(/2 tests passed, 0 failed/)
      expect(code, output).toBe(0)

      // The test's increment ran on forge's fork: the node's contract and chain are unchanged.
      expect(await viem.public.readContract({ address, abi: counterAbi, functionName: 'number' })).toBe(41n)
      expect(await viem.public.getBlockNumber()).toBe(forkBlock)
    }, 90_000)

    it('forge test and forge script against a Cairn fork of the node: both see its state, only the fork changes', async () => {
      const viem = makeViemClients(cairn.url)
      const deployer = devAccount(0)
      const hash = await viem.unlocked0.deployContract({
        abi: counterAbi,
        bytecode: counter.bytecode.object,
        args: [41n],
      })
      const address = (await viem.public.waitForTransactionReceipt({ hash })).contractAddress as Address
      const forkBlock = await viem.public.getBlockNumber()
      const fork = await startNode('cairn', {
        args: ['--ephemeral', '--fork-url', cairn.url, '--fork-block-number', forkBlock.toString()],
      })
      try {
        const onFork = makeViemClients(fork.url)
        const balance = await onFork.public.getBalance({ address: deployer.address })
        const tested = await runForge(project, ['test', '--fork-url', fork.url], {
          COUNTER: address,
          DEPLOYER: deployer.address,
          DEPLOYER_BALANCE: balance.toString(),
          FORK_BLOCK: forkBlock.toString(),
        })
        expect(tested.output).toMatch(/2 tests passed, 0 failed/)
        expect(tested.code, tested.output).toBe(0)

        const nonce = await onFork.public.getTransactionCount({ address: deployer.address })
        const script = await runForge(project, [
          'script',
          'script/Deploy.s.sol',
          '--rpc-url',
          fork.url,
          '--broadcast',
          '--private-key',
          deployer.privateKey,
        ])
        expect(script.output).toMatch(/ONCHAIN EXECUTION COMPLETE & SUCCESSFUL/)
        expect(script.code, script.output).toBe(0)
        const created = getContractAddress({ from: deployer.address, nonce: BigInt(nonce) })
        // Deployed on the fork, on top of the remote's state; the remote has neither the contract nor the blocks.
        expect(await onFork.public.readContract({ address: created, abi: counterAbi, functionName: 'number' })).toBe(8n)
        expect(await onFork.public.readContract({ address, abi: counterAbi, functionName: 'number' })).toBe(41n)
        expect(await viem.public.getCode({ address: created })).toBeUndefined()
        expect(await viem.public.getBlockNumber()).toBe(forkBlock)
      } finally {
        await fork.stop()
        rmSync(fork.datadir, { recursive: true, force: true })
      }
    }, 120_000)

    it('forge script --broadcast against a Cairn fork of Anvil: the constructor writes empty storage', async () => {
      // Anvil proves empty storage with the empty trie's node: the fork once answered every write
      // there -32603 and forge waited for a receipt that never came.
      const anvil = await startNode('anvil')
      const fork = await startNode('cairn', { args: ['--ephemeral', '--fork-url', anvil.url] })
      try {
        const deployer = devAccount(0)
        const onFork = makeViemClients(fork.url)
        const nonce = await onFork.public.getTransactionCount({ address: deployer.address })
        const script = await runForge(project, [
          'script',
          'script/Deploy.s.sol',
          '--rpc-url',
          fork.url,
          '--broadcast',
          '--private-key',
          deployer.privateKey,
        ])
        expect(script.output).toMatch(/ONCHAIN EXECUTION COMPLETE & SUCCESSFUL/)
        expect(script.code, script.output).toBe(0)
        const created = getContractAddress({ from: deployer.address, nonce: BigInt(nonce) })
        expect(await onFork.public.readContract({ address: created, abi: counterAbi, functionName: 'number' })).toBe(8n)
        expect(await makeViemClients(anvil.url).public.getCode({ address: created })).toBeUndefined()
      } finally {
        await Promise.all([fork.stop(), anvil.stop()])
        for (const n of [fork, anvil]) rmSync(n.datadir, { recursive: true, force: true })
      }
    }, 120_000)

    it('forge script --broadcast deploys with dev key 0; the node serves the contract and its state', async () => {
      const viem = makeViemClients(cairn.url)
      const deployer = devAccount(0)
      const nonceBefore = await viem.public.getTransactionCount({ address: deployer.address })

      const { code, output } = await runForge(project, [
        'script',
        'script/Deploy.s.sol',
        '--rpc-url',
        cairn.url,
        '--broadcast',
        '--private-key',
        deployer.privateKey,
      ])
      expect(output).toMatch(/ONCHAIN EXECUTION COMPLETE & SUCCESSFUL/)
      expect(code, output).toBe(0)

      // What forge broadcast, as it recorded it: a create and a call, both with a successful receipt.
      const broadcast = JSON.parse(
        readFileSync(join(project, `broadcast/Deploy.s.sol/${CHAIN_ID}/run-latest.json`), 'utf8'),
      ) as Broadcast
      expect(broadcast.transactions.map((t) => t.transactionType)).toEqual(['CREATE', 'CALL'])
      expect(broadcast.receipts.map((r) => r.status)).toEqual(['0x1', '0x1'])
      const created = broadcast.transactions[0]?.contractAddress
      expect(created).toBeTruthy()
      const address = getAddress(created as Address)
      expect(address).toBe(getContractAddress({ from: deployer.address, nonce: BigInt(nonceBefore) }))

      // The node has the contract forge deployed, with the state the script left.
      expect(await viem.public.getCode({ address })).toBe(counter.deployedBytecode.object)
      expect(await viem.public.readContract({ address, abi: counterAbi, functionName: 'number' })).toBe(8n)
      expect(await viem.public.getTransactionCount({ address: deployer.address })).toBe(nonceBefore + 2)
    }, 90_000)
  },
)
