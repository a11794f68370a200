// Anvil's command-line flags on `cairn start`: a node started with a set of them, each checked
// over RPC for its effect; a value Cairn cannot honour (`--order fifo`) is refused with the flag named.
// The whole table of Anvil 1.7.1's flags is packages/node/test/config/anvil-flag-table.test.ts.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { WebSocket } from '../../../rpc/test/edge-server.ts'
import { freePort, type NodeHandle, REPO_ROOT, rpcRequest, startNode } from './harness.ts'

const nodes: NodeHandle[] = []
afterAll(async () => {
  for (const n of nodes) {
    await n.stop()
    rmSync(n.datadir, { recursive: true, force: true })
  }
})

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await rpcRequest<T>(url, method, params, 30_000)
  if (!('result' in res)) throw new Error(`${method}: ${JSON.stringify(res)}`)
  return res.result as T
}

describe("Anvil's flags on cairn start", () => {
  it('take effect: port, host, chain id, accounts, balance, hardfork, gas limit, base fee, timestamp, auto-impersonate', async () => {
    const port = await freePort()
    // The harness gives --http.port too: --port is checked by where the node answers, so give both the same.
    const node = await startNode('cairn', {
      port,
      args: [
        ...['-p', String(port), '--host', '127.0.0.1', '--chain-id', '31337', '--accounts', '3', '--balance', '100'],
        ...['--hardfork', 'prague', '--gas-limit', '50000000', '--base-fee', '2000000000', '--timestamp', '1700000000'],
        ...['--auto-impersonate', '--steps-tracing', '--order', 'fees', '--no-storage-caching', '--silent'],
      ],
    })
    nodes.push(node)
    const url = `http://127.0.0.1:${port}`
    expect(await rpc<Hex>(url, 'eth_chainId', [])).toBe('0x7a69')
    const accounts = await rpc<Hex[]>(url, 'eth_accounts', [])
    expect(accounts).toHaveLength(3)
    expect(BigInt(await rpc<Hex>(url, 'eth_getBalance', [accounts[0], 'latest']))).toBe(100n * 10n ** 18n)
    const genesis = await rpc<{ gasLimit: Hex; baseFeePerGas: Hex; timestamp: Hex }>(url, 'eth_getBlockByNumber', [
      '0x0',
      false,
    ])
    expect(BigInt(genesis.gasLimit)).toBe(50_000_000n)
    expect(BigInt(genesis.baseFeePerGas)).toBe(2_000_000_000n)
    expect(BigInt(genesis.timestamp)).toBe(1_700_000_000n)
    // Prague, not Osaka: CLZ (EIP-7939, Osaka) is an invalid opcode. Init code PUSH1 1, CLZ, STOP.
    const clz = await rpcRequest(url, 'eth_call', [{ data: '0x60011e00' }, 'latest'], 30_000)
    expect('error' in clz).toBe(true)
    // --silent: nothing on stdout past the banner's absence of logs (no JSON log lines).
    expect(node.logs()).not.toMatch(/"level":"info"/)
    // --auto-impersonate: any address sends without a key.
    const stranger = '0x00000000000000000000000000000000000b0b00'
    await rpc(url, 'anvil_setBalance', [stranger, '0xde0b6b3a7640000'])
    const hash = await rpc<Hex>(url, 'eth_sendTransaction', [
      { from: stranger, to: accounts[1], value: '0x1', gas: '0x5208' },
    ])
    const receipt = await rpc<{ status: Hex; from: Hex }>(url, 'eth_getTransactionReceipt', [hash])
    expect(receipt.status).toBe('0x1')
    expect(receipt.from).toBe(stranger)
  }, 120_000)

  it('--fork-url URL@N forks at block N, and anvil_nodeInfo / anvil_metadata report the fork', async () => {
    const remote = nodes[0] as NodeHandle
    await rpc(remote.url, 'evm_mine', [])
    const at1 = await rpc<{ hash: Hex }>(remote.url, 'eth_getBlockByNumber', ['0x1', false])
    const fork = await startNode('cairn', { args: ['--ephemeral', '--fork-url', `${remote.url}@1`, '--silent'] })
    nodes.push(fork)
    expect(await rpc<Hex>(fork.url, 'eth_blockNumber', [])).toBe('0x1')
    const info = await rpc<{ forkConfig: Record<string, unknown> }>(fork.url, 'anvil_nodeInfo', [])
    expect(info.forkConfig).toEqual({ forkUrl: remote.url, forkBlockNumber: 1, forkRetryBackoff: 200 })
    const meta = await rpc<{ forkedNetwork: unknown; clientVersion: string }>(fork.url, 'anvil_metadata', [])
    expect(meta.forkedNetwork).toEqual({ chainId: 31337, forkBlockNumber: 1, forkBlockHash: at1.hash })
    // A dev chain names itself as Anvil first (Hardhat's helpers need it), then as Cairn.
    expect(meta.clientVersion).toMatch(/^anvil\/v1\.7\.1 Cairn\/v/)
  }, 120_000)

  it('-vv, --config-out, --state with a head number, --print-traces, the first filter poll, the request cap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-anvil-flags-'))
    const stateFile = join(dir, 'state.json')
    const configOut = join(dir, 'config.json')
    const rich = '0x00000000000000000000000000000000000000aa'
    // A state file as Anvil writes one: its head is block 7 at timestamp 1,800,000,000.
    writeFileSync(
      stateFile,
      JSON.stringify({
        block: { number: '0x7', timestamp: '0x6b49d200' },
        best_block_number: '0x7',
        accounts: { [rich]: { nonce: 0, balance: '0x1234', code: '0x', storage: {} } },
      }),
    )
    const node = await startNode('cairn', {
      args: ['--ephemeral', '-vv', '--config-out', configOut, '--state', stateFile, '--print-traces'],
    })
    nodes.push(node)
    const url = node.url
    // -vv raised the log level (it once printed the version and exited).
    expect(node.logs()).toMatch(/"level":"debug"|"level":20/)
    // The state file's accounts and head number.
    expect(BigInt(await rpc<Hex>(url, 'eth_getBalance', [rich, 'latest']))).toBe(0x1234n)
    expect(await rpc<Hex>(url, 'eth_blockNumber', [])).toBe('0x7')
    const head = await rpc<{ timestamp: Hex }>(url, 'eth_getBlockByNumber', ['latest', false])
    expect(BigInt(head.timestamp)).toBe(1_800_000_000n)
    // --config-out: Anvil's JSON, the keys of the accounts, readable by the owner only.
    const out = JSON.parse(readFileSync(configOut, 'utf8'))
    expect(out.available_accounts[0]).toBe('0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266')
    expect(out.private_keys[0]).toBe('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80')
    expect(out.wallet.derivation_path).toBe("m/44'/60'/0'/0/")
    expect(statSync(configOut).mode & 0o777).toBe(0o600)
    // A creation whose init code logs (PUSH1 0 PUSH1 0 LOG0): the trace is printed, and a filter
    // from block 0 installed afterwards answers that log on its first poll, as Anvil's.
    const [from] = await rpc<Hex[]>(url, 'eth_accounts', [])
    const hash = await rpc<Hex>(url, 'eth_sendTransaction', [{ from, data: '0x60006000a000', gas: '0x10000' }])
    const deadline = Date.now() + 30_000
    while (!node.logs().includes(`Transaction: ${hash}`) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    expect(node.logs()).toMatch(new RegExp(`Transaction: ${hash}\\nGas used: \\d+\\n\\nTraces:\\n  \\[\\d+\\] → new`))
    const filter = await rpc<Hex>(url, 'eth_newFilter', [{ fromBlock: '0x0' }])
    const first = await rpc<{ transactionHash: Hex }[]>(url, 'eth_getFilterChanges', [filter])
    expect(first.map((l) => l.transactionHash)).toEqual([hash])
    expect(await rpc(url, 'eth_getFilterChanges', [filter])).toEqual([])
    // One request limit on both transports: a WebSocket message past 5 MiB is not answered, the
    // socket is closed (1009, or 1006 when the server drops it while the client is still sending).
    const ws = new WebSocket(url.replace('http', 'ws'))
    await new Promise<void>((resolve, reject) => {
      ws.on('open', resolve)
      ws.on('error', reject)
    })
    const answers: string[] = []
    ws.on('message', (m) => answers.push(String(m)))
    ws.on('error', () => {})
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
    ws.send(
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'web3_sha3', params: [`0x${'00'.repeat(3 * 1024 * 1024)}`] }),
    )
    expect([1006, 1009]).toContain(await closed)
    expect(answers).toEqual([])
    // The state file is written on a clean stop, at the chain's head.
    expect(await node.stop()).toBe(0)
    expect(existsSync(stateFile)).toBe(true)
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).best_block_number).toBe(8)
    rmSync(dir, { recursive: true, force: true })
  }, 180_000)

  it("refuses what Cairn cannot honour, naming Anvil's flag: --order fifo", () => {
    const r = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'packages/node/bin/cairn.js'), 'start', '--dev', '--ephemeral', '--order', 'fifo'],
      { encoding: 'utf8', timeout: 90_000 },
    )
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/--order/)
    expect(r.stderr).toMatch(/fees/)
  }, 120_000)
})
