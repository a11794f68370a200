// Anvil's --code-size-limit and --disable-code-size-limit over real JSON-RPC: a dev chain's contract
// code size limit (EIP-170, initcode twice it) set by the node, held by blocks, by the pool and by
// calls on the read threads alike; the fork's 24,576 bytes otherwise.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ACCOUNT_0 } from './bytecode.ts'
import { call, result, type StartedNode, startDevNode } from './live-node.ts'

/** Init code that deploys `n` zero bytes (STOPs): PUSH2 n DUP1 PUSH1 12 PUSH1 0 CODECOPY PUSH1 0 RETURN. */
function deployer(n: number): string {
  return `0x61${n.toString(16).padStart(4, '0')}80600c6000396000f3${'00'.repeat(n)}`
}

async function deploy(url: string, n: number): Promise<{ status: string; contractAddress: string | null }> {
  const hash = await result<string>(url, 'eth_sendTransaction', [
    { from: ACCOUNT_0, data: deployer(n), gas: '0xf42400' },
  ])
  return result(url, 'eth_getTransactionReceipt', [hash])
}

const nodes: StartedNode[] = []
const dirs: string[] = []
afterAll(async () => {
  for (const n of nodes) await n.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('the dev chain code size limit', () => {
  it('the fork default: 24,576 bytes deploy, 24,577 do not', async () => {
    const node = await startDevNode()
    nodes.push(node)
    expect((await deploy(node.url, 24_576)).status).toBe('0x1')
    expect((await deploy(node.url, 24_577)).status).toBe('0x0')
  })

  it('--code-size-limit 100: 100 bytes deploy, 101 do not; calls on the read threads agree', async () => {
    const datadir = mkdtempSync(join(tmpdir(), 'cairn-codesize-'))
    dirs.push(datadir)
    const node = await startDevNode(
      {},
      {
        flags: {
          ephemeral: false,
          datadir,
          'rpc.threads': 1,
          'rpc.threadListeners': false,
          'devChain.codeSizeLimit': 100,
        },
      },
    )
    nodes.push(node)
    const ok = await deploy(node.url, 100)
    expect(ok.status).toBe('0x1')
    expect(await result(node.url, 'eth_getCode', [ok.contractAddress, 'latest'])).toBe(`0x${'00'.repeat(100)}`)
    expect((await deploy(node.url, 101)).status).toBe('0x0')
    // Initcode over twice the limit is refused by the pool (EIP-3860 at 200 bytes).
    const big = await call(node.url, 'eth_sendTransaction', [{ from: ACCOUNT_0, data: deployer(190), gas: '0xf42400' }])
    expect(big.error?.message).toMatch(/initcode|init code|max/i)
    // eth_call of a creation on a read thread answers as the main thread: the same limit.
    const threads = node.readThreads
    if (!threads) throw new Error('no read threads')
    await threads.whenStarted()
    for (const [n, fits] of [
      [100, true],
      [101, false],
    ] as const) {
      const body = {
        jsonrpc: '2.0',
        id: n,
        method: 'eth_call',
        params: [{ from: ACCOUNT_0, data: deployer(n) }, 'latest'],
      }
      const onThread = threads.handle({ value: body }, JSON.stringify(body))
      if (!onThread) throw new Error('no read thread ready')
      const [thread, main] = await Promise.all([onThread, node.dispatcher.handleText(JSON.stringify(body))])
      const answer = JSON.parse(thread ?? 'null') as { result?: string; error?: unknown }
      expect(answer).toEqual(JSON.parse(main ?? 'null'))
      if (fits) expect(answer.result).toBe(`0x${'00'.repeat(n)}`)
      else expect(answer.error).toBeDefined()
    }
  })

  it('--disable-code-size-limit: a 30,000-byte contract deploys', async () => {
    const node = await startDevNode({}, { flags: { 'devChain.disableCodeSizeLimit': true } })
    nodes.push(node)
    const r = await deploy(node.url, 30_000)
    expect(r.status).toBe('0x1')
    const code = await result<string>(node.url, 'eth_getCode', [r.contractAddress, 'latest'])
    expect((code.length - 2) / 2).toBe(30_000)
  })
})
