// Anvil's command-line flags on `cairn start`: a node started with a set of them, each checked
// over RPC for its effect; a value Cairn cannot honour (`--order fifo`) is refused with the flag named.
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
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
