// eth_call through the view interpreter (rpc/src/fast/view-calls.ts, chain/src/view-call) against
// eth_call through the EVM, on a real node over HTTP with viem: the Solidity token and emitter
// (solc 0.8, Cancun) and Uniswap V2 from its published bytecode (solc 0.5/0.6: no PUSH0), called
// with random views, pure library functions, reverts (Error(string), custom errors), writes and
// logs the interpreter hands back, BLOCKHASH, STATICCALLs to other contracts, random calldata,
// callers, gas limits around what the call needs, and earlier blocks. Each call is made with the
// interpreter on and off; the answers (result, or error code, message and data) must be equal.
import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  encodeDeployData,
  encodeFunctionData,
  type Hex,
  http,
  parseAbi,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { type StartedNode, startNode } from '../../src/node.ts'
import { compileContracts, emitterAbi, tokenAbi } from '../e2e/contracts.ts'
import { devAccount, devChain } from '../e2e/helpers.ts'
import { deployUniswap, mined, type Uniswap } from '../estimate/uniswap.ts'

const OWNER = devAccount(0)
let node: StartedNode
let limits: { viewInterpreter: boolean; callCacheEntries: number }
let viewCounter: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }
let token: Address
let emitter: Address
let uni: Uniswap
let heads: bigint[] = []

const transport = () => http(node.url, { retryCount: 0 })
const pub = () => createPublicClient({ chain: devChain, transport: transport(), cacheTime: 0, pollingInterval: 10 })
const wallet = () =>
  createWalletClient({ account: privateKeyToAccount(OWNER.privateKey), chain: devChain, transport: transport() })

const routerAbi = parseAbi([
  'function getAmountsOut(uint256 amountIn, address[] path) view returns (uint256[] amounts)',
  'function quote(uint256 amountA, uint256 reserveA, uint256 reserveB) pure returns (uint256)',
  'function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) pure returns (uint256)',
])
const pairAbi = parseAbi([
  'function getReserves() view returns (uint112, uint112, uint32)',
  'function token0() view returns (address)',
  'function price0CumulativeLast() view returns (uint256)',
  'function DOMAIN_SEPARATOR() view returns (bytes32)',
  'function balanceOf(address) view returns (uint256)',
  'function name() view returns (string)',
])

beforeAll(async () => {
  const config = loadConfig({
    flags: { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1', 'log.level': 'silent' },
    env: {},
  })
  node = await startNode(config, { logger: silentLogger })
  const ctx = (node.rpc as unknown as { modules: { dispatcher: { modules: { ctx: unknown } } } }).modules.dispatcher
    .modules.ctx as { limits: typeof limits; metrics: { viewCalls: typeof viewCounter } }
  limits = ctx.limits
  viewCounter = ctx.metrics.viewCalls
  // Every call executes (the outcome cache would answer the second of each pair).
  limits.callCacheEntries = 0
  const { Token, Emitter } = compileContracts()
  const deploy = async (data: Hex) => {
    const hash = await wallet().sendTransaction({ data, account: privateKeyToAccount(OWNER.privateKey), chain: null })
    return (await mined(pub() as never, hash)).contractAddress as Address
  }
  token = await deploy(encodeDeployData({ abi: tokenAbi, bytecode: Token.bytecode, args: ['T', 'T', 10n ** 24n] }))
  emitter = await deploy(Emitter.bytecode)
  uni = await deployUniswap(pub() as never, wallet() as never)
  await mined(
    pub() as never,
    await wallet().writeContract({
      address: uni.router,
      abi: parseAbi([
        'function addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256) returns (uint256,uint256,uint256)',
      ]),
      functionName: 'addLiquidity',
      args: [uni.tokenA, uni.tokenB, 10n ** 21n, 2n * 10n ** 21n, 0n, 0n, OWNER.address, 2n ** 40n],
      chain: null,
    }),
  )
  const head = await pub().getBlockNumber()
  heads = [head, head - 1n, head - 3n, 1n]
}, 120_000)

afterAll(async () => {
  await node?.close()
})

const holder = fc.oneof(
  fc.constant(OWNER.address as Address),
  fc.constant(devAccount(1).address as Address),
  fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Address),
)
const amount = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.constantFrom(0n, 1n, 2n ** 256n - 1n, 2n ** 112n))

/** A call: its target and calldata (some views, some pure functions, some writes, some garbage). */
const callOf = fc.oneof(
  holder.map((h) => () => ({
    to: token,
    data: encodeFunctionData({ abi: tokenAbi, functionName: 'balanceOf', args: [h] }),
  })),
  fc.tuple(holder, holder).map(([a, b]) => () => ({
    to: token,
    data: encodeFunctionData({ abi: tokenAbi, functionName: 'allowance', args: [a, b] }),
  })),
  fc.constantFrom('name', 'symbol', 'decimals', 'totalSupply').map((f) => () => ({
    to: token,
    data: encodeFunctionData({ abi: tokenAbi, functionName: f as 'name' }),
  })),
  fc.constantFrom('value', 'MAX_VALUE', 'parentHash').map((f) => () => ({
    to: emitter,
    data: encodeFunctionData({ abi: emitterAbi, functionName: f as 'value' }),
  })),
  fc.tuple(fc.constantFrom('set', 'setStrict'), amount).map(([f, v]) => () => ({
    to: emitter,
    data: encodeFunctionData({ abi: emitterAbi, functionName: f as 'set', args: [v] }),
  })),
  fc.constantFrom('getReserves', 'token0', 'price0CumulativeLast', 'DOMAIN_SEPARATOR', 'name').map((f) => () => ({
    to: uni.pair,
    data: encodeFunctionData({ abi: pairAbi, functionName: f as 'token0' }),
  })),
  holder.map((h) => () => ({
    to: uni.pair,
    data: encodeFunctionData({ abi: pairAbi, functionName: 'balanceOf', args: [h] }),
  })),
  fc.tuple(amount, amount, amount).map(([a, b, c]) => () => ({
    to: uni.router,
    data: encodeFunctionData({ abi: routerAbi, functionName: 'quote', args: [a, b, c] }),
  })),
  fc.tuple(amount, amount, amount).map(([a, b, c]) => () => ({
    to: uni.router,
    data: encodeFunctionData({ abi: routerAbi, functionName: 'getAmountOut', args: [a, b, c] }),
  })),
  amount.map((a) => () => ({
    to: uni.router,
    data: encodeFunctionData({ abi: routerAbi, functionName: 'getAmountsOut', args: [a, [uni.tokenA, uni.tokenB]] }),
  })),
  fc.tuple(fc.constantFrom(0, 1, 2, 3), fc.uint8Array({ maxLength: 40 })).map(([t, bytes]) => () => ({
    to: [() => token, () => emitter, () => uni.pair, () => uni.router][t]?.() as Address,
    data: `0x${Buffer.from(bytes).toString('hex')}` as Hex,
  })),
)

const request = fc.record({
  call: callOf,
  from: fc.constantFrom<Address | undefined>(
    undefined,
    OWNER.address as Address,
    '0x00000000000000000000000000000000000000aa',
  ),
  gas: fc.constantFrom<bigint | undefined>(
    undefined,
    undefined,
    21_000n,
    21_700n,
    22_500n,
    23_500n,
    25_000n,
    30_000n,
    80_000n,
  ),
  block: fc.nat({ max: 3 }),
})

async function answer(params: unknown[]): Promise<unknown> {
  try {
    return { result: await pub().request({ method: 'eth_call', params: params as never }) }
  } catch (err) {
    const e = err as { cause?: { code?: number; message?: string; data?: unknown }; code?: number }
    const cause = e.cause ?? {}
    return { error: { code: cause.code ?? e.code, message: cause.message, data: cause.data } }
  }
}

async function counted(path: string): Promise<number> {
  return (await viewCounter.get()).values.find((v) => v.labels.path === path)?.value ?? 0
}

describe('eth_call through the view interpreter', () => {
  it('answers as the EVM does', async () => {
    const before = await counted('interpreter')
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const { to, data } = r.call()
        const params = [
          { to, data, ...(r.from ? { from: r.from } : {}), ...(r.gas ? { gas: `0x${r.gas.toString(16)}` } : {}) },
          r.block === 0 ? 'latest' : `0x${(heads[r.block] as bigint).toString(16)}`,
        ]
        limits.viewInterpreter = true
        const viewed = await answer(params)
        limits.viewInterpreter = false
        const evm = await answer(params)
        limits.viewInterpreter = true
        expect(viewed).toEqual(evm)
      }),
      { numRuns: 400 },
    )
    // Not vacuous: many calls were answered by the interpreter, and others went to the EVM.
    expect((await counted('interpreter')) - before).toBeGreaterThan(100)
    expect(await counted('evm')).toBeGreaterThan(20)
  }, 120_000)
})
