// The in-process cost of one read request through the JSON-RPC dispatcher (no HTTP, no client):
// what the node spends per eth_getBalance / eth_blockNumber / eth_call of the fixture ERC-20's
// balanceOf, measured in one process so the figure does not depend on the load generator.
//   node --import tsx packages/node/bench/dispatch.ts   (DISPATCH_N=20000 per method; DISPATCH_ONLY=eth_getBalance: one method;
//   DISPATCH_CONCURRENCY=16: that many requests in flight; DISPATCH_CALL_CACHE=0: no eth_call outcomes kept; DISPATCH_STORE=datadir: the chain in a fresh LevelDB
//   datadir, as users run it, instead of in memory — an absent storage slot is then read from disk)
// Profile: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx packages/node/bench/dispatch.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hexToBytes, silentLogger } from '@cairn/utils'
import { Address, bigIntToBytes, setLengthLeft } from '@ethereumjs/util'
import { encodeDeployData, encodeFunctionData, type Hex } from 'viem'
import type { RpcContext } from '../../rpc/src/context.ts'
import { prepareCall, withCall } from '../../rpc/src/exec.ts'
import type { CallRequest } from '../../rpc/src/schemas.ts'
import { loadConfig } from '../src/config/load.ts'
import { startNode } from '../src/node.ts'
import { compileContracts, tokenAbi } from '../test/e2e/contracts.ts'
import { deployUniswapRead } from './uniswap.ts'

interface Dispatcher {
  handleText(body: string): Promise<string | undefined>
}

export interface DispatchFigures {
  method: string
  perSecond: number
  microsPerRequest: number
  /** The process's CPU time (every thread) per request, when measured. */
  cpuMicrosPerRequest?: number
}

/** Starts an in-process dev node, deploys the token and times `n` sequential requests per method. */
export async function runDispatch(n: number): Promise<DispatchFigures[]> {
  const datadir = process.env.DISPATCH_STORE === 'datadir' ? mkdtempSync(join(tmpdir(), 'cairn-dispatch-')) : null
  const config = loadConfig({
    flags: {
      dev: true,
      ...(datadir ? { datadir } : { ephemeral: true }),
      'http.port': 0,
      'http.addr': '127.0.0.1',
      'log.level': 'silent',
    },
    env: {},
  })
  const node = await startNode(config, { logger: silentLogger })
  try {
    const dispatcher: Dispatcher = node.dispatcher
    // DISPATCH_CALL_CACHE=0: no eth_call outcomes remembered (what a distinct call costs without the cache).
    if (process.env.DISPATCH_CALL_CACHE !== undefined)
      (
        node.dispatcher as unknown as { modules: { ctx: { limits: { callCacheEntries: number } } } }
      ).modules.ctx.limits.callCacheEntries = Number(process.env.DISPATCH_CALL_CACHE)
    let id = 0
    const rpc = async (method: string, params: unknown[]) => {
      const text = await dispatcher.handleText(JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }))
      const res = JSON.parse(text ?? '{}') as { result?: unknown; error?: { message: string } }
      if (res.error) throw new Error(`${method}: ${res.error.message}`)
      return res.result
    }
    const owner = node.accounts[0]?.address as Hex
    const { Token } = compileContracts()
    const data = encodeDeployData({ abi: tokenAbi, bytecode: Token.bytecode, args: ['Bench', 'BEN', 10n ** 24n] })
    const hash = (await rpc('eth_sendTransaction', [{ from: owner, data, gas: '0x1e8480' }])) as Hex
    let receipt = null as { contractAddress: Hex } | null
    while (!receipt) {
      receipt = (await rpc('eth_getTransactionReceipt', [hash])) as typeof receipt
      if (!receipt) await new Promise((r) => setTimeout(r, 20))
    }
    const callData = encodeFunctionData({ abi: tokenAbi, functionName: 'balanceOf', args: [owner] })
    const cases: [string, unknown[]][] = [
      ['eth_getBalance', [owner, 'latest']],
      ['eth_blockNumber', []],
      ['eth_call', [{ to: receipt.contractAddress, data: callData }, 'latest']],
      // balanceOf of a different holder each time: no outcome cache, every call executes.
      ['eth_call_distinct', []],
      // Uniswap V2 Router02.getAmountsOut with a different amountIn each time (a STATICCALL to the pair).
      ['getAmountsOut', []],
    ]
    const out: DispatchFigures[] = []
    for (const [method, params] of cases.filter(
      ([m]) => !process.env.DISPATCH_ONLY || m === process.env.DISPATCH_ONLY,
    )) {
      let holder = 0
      const distinct = method === 'eth_call_distinct'
      const uniswap = method === 'getAmountsOut' ? await deployUniswapRead(node.url) : undefined
      // The calldata cut around amountIn (the selector's 4 bytes, then the word), as the HTTP bench does.
      const swapData = uniswap?.callData(0n) ?? '0x'
      const fixed = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })
      const body = () =>
        uniswap
          ? JSON.stringify({
              jsonrpc: '2.0',
              id: 1,
              method: 'eth_call',
              params: [
                {
                  to: uniswap.router,
                  data: `${swapData.slice(0, 10)}${(++holder).toString(16).padStart(64, '0')}${swapData.slice(74)}`,
                },
                'latest',
              ],
            })
          : distinct
            ? JSON.stringify({
                jsonrpc: '2.0',
                id: 1,
                method: 'eth_call',
                params: [
                  { to: receipt?.contractAddress, data: `0x70a08231${(++holder).toString(16).padStart(64, '0')}` },
                  'latest',
                ],
              })
            : fixed
      for (let i = 0; i < Math.min(n, 2000); i++) await dispatcher.handleText(body()) // warm-up (JIT)
      const t0 = performance.now()
      const cpu0 = process.cpuUsage()
      const lanes = Number(process.env.DISPATCH_CONCURRENCY ?? 1)
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let i = lane; i < n; i += lanes) await dispatcher.handleText(body())
        }),
      )
      const ms = performance.now() - t0
      const cpu = process.cpuUsage(cpu0)
      out.push({
        method,
        perSecond: Math.round((n * 1000) / ms),
        microsPerRequest: Math.round((ms * 1000) / n),
        cpuMicrosPerRequest: Math.round((cpu.user + cpu.system) / n),
      })
    }
    // The call alone (no JSON-RPC), on a VM borrowed from the pool vs a fresh VM per call (what
    // eth_call did before the pool: createVM per call).
    const ctx = (dispatcher as unknown as { modules: { ctx: RpcContext } }).modules.ctx
    const req = { to: receipt.contractAddress, data: callData } as CallRequest
    const timeIt = async (name: string, once: () => Promise<unknown>) => {
      const m = Math.max(1, Math.floor(n / 4))
      for (let i = 0; i < Math.min(m, 500); i++) await once()
      const t0 = performance.now()
      for (let i = 0; i < m; i++) await once()
      const ms = performance.now() - t0
      out.push({ method: name, perSecond: Math.round((m * 1000) / ms), microsPerRequest: Math.round((ms * 1000) / m) })
    }
    if (process.env.DISPATCH_ONLY) return out
    await timeIt('call: pooled VM', () => withCall(ctx, req, node.chain.head, {}, (c) => c.run(10_000_000n)))
    const view = node.chain.stateAt(node.chain.postStateRoot(node.chain.head.header))
    const tokenAddr = new Address(hexToBytes(receipt.contractAddress))
    let slot = 1n << 200n
    await timeIt('read: absent slot', () => view.getStorage(tokenAddr, setLengthLeft(bigIntToBytes(++slot), 32)))
    await timeIt('call: fresh VM', async () => (await prepareCall(ctx, req, node.chain.head)).run(10_000_000n))
    return out
  } finally {
    await node.close()
    if (datadir) rmSync(datadir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.env.DISPATCH_N ?? 20_000)
  for (const f of await runDispatch(n))
    console.log(
      `${f.method.padEnd(16)} ${f.perSecond}/s  ${f.microsPerRequest} µs${f.cpuMicrosPerRequest === undefined ? '' : `  ${f.cpuMicrosPerRequest} µs CPU`}`,
    )
}
