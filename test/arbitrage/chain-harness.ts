// A real EVM chain for the arbitrage tests, and Uniswap V2 deployed on it from its published build
// (npm @uniswap/v2-core `build/`): a Cairn dev node started in this process, or Anvil when its
// binary is installed (`@foundry-rs/anvil-linux-amd64`, an optional dependency). Both serve the
// same ten dev accounts (the "test … junk" mnemonic).
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { arbExecutor } from '@cairn/contracts'
import {
  type Abi,
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  parseAbi,
  type WalletClient,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { Address } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { getAmountOut } from '../../packages/arbitrage/src/math/v2.ts'
import { startNode } from '../../packages/node/test/e2e/harness.ts'
import { startDevNode } from '../rpc/live-node.ts'

const require = createRequire(import.meta.url)
const v2 = (name: string) => require(`@uniswap/v2-core/build/${name}.json`) as { abi: Abi; bytecode: string }
const factoryBuild = v2('UniswapV2Factory')
const erc20Build = v2('ERC20')
const pairBuild = v2('UniswapV2Pair')

export const erc20Abi = parseAbi([
  'function balanceOf(address) view returns (uint256)',
  'function transfer(address to, uint256 amount) returns (bool)',
])
export const pairAbiFull = pairBuild.abi
export const factoryAbi = factoryBuild.abi

export interface TestChain {
  name: 'cairn' | 'anvil'
  url: string
  chain: Chain
  pub: PublicClient
  accounts: Account[]
  wallets: WalletClient[]
  close(): Promise<void>
}

async function clients(name: TestChain['name'], url: string, keys: Hex[], close: () => Promise<void>) {
  const probe = createPublicClient({ transport: http(url) })
  const id = await probe.getChainId()
  const chain = defineChain({
    id,
    name,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  })
  // viem's default 10 s per request is short on a loaded 2-core machine (once, with six sessions on
  // it, a 4-hop trade's simulation failed in a test that took 7.6 s; the cause was not recorded, a
  // timeout is the likely one): give the chain a minute
  const transport = http(url, { timeout: 60_000 })
  // cacheTime 0: viem otherwise answers getBlockNumber from a cache as old as the polling interval,
  // and a test that reads the head right after a mined transaction then sees the block before it
  // (replace.e2e once took that block, the swap's, for the next one's on a fast quiet run)
  const pub = createPublicClient({ chain, transport, pollingInterval: 50, cacheTime: 0 }) as PublicClient
  const accounts = keys.map((k) => privateKeyToAccount(k))
  const wallets = accounts.map((account) => createWalletClient({ account, chain, transport }))
  return { name, url, chain, pub, accounts, wallets, close } satisfies TestChain
}

/** A Cairn dev node in this process (instant sealing: every transaction is mined at once). */
export async function startCairn(): Promise<TestChain> {
  const node = await startDevNode()
  const keys = node.accounts.map((a) => `0x${Buffer.from(a.privateKey).toString('hex')}` as Hex)
  return clients('cairn', node.url, keys, () => node.close())
}

/**
 * `cairn start --dev` as its own process (the CLI a user runs), automining until told otherwise
 * (`evm_setIntervalMining`). Its dev accounts are Anvil's (the default mnemonic).
 */
export async function startCairnProcess(): Promise<TestChain> {
  const node = await startNode('cairn', { args: ['--log.level', 'warn'] })
  return clients('cairn', node.url, ANVIL_KEYS, async () => {
    await node.stop()
    rmSync(node.datadir, { recursive: true, force: true })
  })
}

/**
 * The Anvil binary: `ANVIL_BIN` when set (e.g. installed outside the repository: `cd /tmp/anvil &&
 * npm i @foundry-rs/anvil`, then `ANVIL_BIN=/tmp/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil`),
 * else the one the optional npm dependency ships, if installed on this platform.
 */
export function anvilBinary(): string | undefined {
  const fromEnv = process.env.ANVIL_BIN
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined
  try {
    const pkg = require.resolve('@foundry-rs/anvil-linux-amd64/package.json')
    const bin = join(dirname(pkg), 'bin', 'anvil')
    return existsSync(bin) ? bin : undefined
  } catch {
    return undefined
  }
}

// Anvil's default accounts (mnemonic "test test test test test test test test test test test junk")
const ANVIL_KEYS: Hex[] = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
]

/** Anvil on an ephemeral port (it prints the address it listens on). */
export async function startAnvil(bin: string): Promise<TestChain> {
  const child: ChildProcess = spawn(bin, ['--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /Listening on ([\d.]+:\d+)/.exec(out)
      if (m) resolve(`http://${m[1]}`)
    })
    child.once('exit', (code) => reject(new Error(`anvil exited with ${code}: ${out}`)))
  })
  const close = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  return clients('anvil', url, ANVIL_KEYS, close)
}

/**
 * Gas limits for the fixture's transactions. Fixed, not estimated: a V2 pair writes its cumulative
 * prices only when the block's timestamp moved, so an estimate made in the second of the last
 * update (Anvil's `latest`) falls short by ~44k when the transaction is mined a second later.
 */
const GAS = { transfer: 120_000n, swap: 300_000n, mint: 400_000n, createPair: 5_000_000n }

/** Waits until a sent transaction is mined successfully. */
export async function mined(c: TestChain, hash: Promise<Hex>): Promise<void> {
  const r = await c.pub.waitForTransactionReceipt({ hash: await hash, pollingInterval: 20 })
  if (r.status !== 'success') throw new Error(`transaction ${r.transactionHash} reverted`)
}

/** Account `who` calls a contract function and waits until the call is mined successfully. */
async function write(
  c: TestChain,
  who: number,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
  gas: bigint,
): Promise<void> {
  const w = c.wallets[who]!
  await mined(c, w.writeContract({ ...call, account: w.account!, chain: c.chain, gas } as never))
}

export async function deploy(c: TestChain, who: number, abi: Abi, bytecode: string, args: unknown[] = []) {
  const w = c.wallets[who]!
  const hash = await w.deployContract({
    abi,
    bytecode: (bytecode.startsWith('0x') ? bytecode : `0x${bytecode}`) as Hex,
    args,
    account: w.account!,
    chain: c.chain,
  })
  const r = await c.pub.waitForTransactionReceipt({ hash, pollingInterval: 20 })
  if (!r.contractAddress || r.status !== 'success') throw new Error('deployment failed')
  return r.contractAddress.toLowerCase() as Address
}

export const deployToken = (c: TestChain, supply: bigint) => deploy(c, 0, erc20Build.abi, erc20Build.bytecode, [supply])

export const feeTokenAbi = parseAbi([
  'constructor(uint256 supply, uint256 feeBps)',
  'function setBlocked(address who, bool isBlocked)',
  'function balanceOf(address) view returns (uint256)',
  'function transfer(address to, uint256 amount) returns (bool)',
])
const fixtureCode = new Map<string, Hex>()
/** fixtures/NAME.sol's contract NAME compiled with the pinned solc-js (once per process). */
function fixtureBytecode(name: string): Hex {
  const known = fixtureCode.get(name)
  if (known) return known
  const solc = require('solc') as { compile(input: string): string }
  const content = readFileSync(new URL(`./fixtures/${name}.sol`, import.meta.url), 'utf8')
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: 'Solidity',
        sources: { [`${name}.sol`]: { content } },
        settings: {
          evmVersion: 'paris',
          optimizer: { enabled: true, runs: 200 },
          outputSelection: { '*': { [name]: ['evm.bytecode.object'] } },
        },
      }),
    ),
  ) as {
    errors?: { severity: string; formattedMessage: string }[]
    contracts?: Record<string, Record<string, { evm: { bytecode: { object: string } } }>>
  }
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`)
  const code = `0x${out.contracts![`${name}.sol`]![name]!.evm.bytecode.object}` as Hex
  fixtureCode.set(name, code)
  return code
}

export const noiseSwapperAbi = parseAbi(['function swap(address pair, address tokenIn, uint256 amountIn)'])
/** fixtures/NoiseSwapper.sol: a swap in one transaction, of the tokens the contract holds. */
export const deployNoiseSwapper = (c: TestChain, who = 0) =>
  deploy(c, who, noiseSwapperAbi, fixtureBytecode('NoiseSwapper'))

/**
 * A token that burns `feeBps` of every transfer and refuses transfers from addresses blocked with
 * {@link blockSender} (fixtures/FeeToken.sol); account 0 holds the supply.
 */
export const deployFeeToken = (c: TestChain, supply: bigint, feeBps: bigint) =>
  deploy(c, 0, feeTokenAbi, fixtureBytecode('FeeToken'), [supply, feeBps])

/** FeeToken.setBlocked(who, true): transfers from `who` revert from now on. */
export async function blockSender(c: TestChain, token: Address, who: Address): Promise<void> {
  await write(c, 0, { address: token, abi: feeTokenAbi, functionName: 'setBlocked', args: [who, true] }, GAS.transfer)
}
export const deployFactory = (c: TestChain) =>
  deploy(c, 0, factoryBuild.abi, factoryBuild.bytecode, [c.accounts[0]!.address])
export const deployExecutor = (c: TestChain, who = 0) => deploy(c, who, arbExecutor.abi as Abi, arbExecutor.bytecode)

export async function transfer(c: TestChain, who: number, token: Address, to: Address, amount: bigint) {
  await write(c, who, { address: token, abi: erc20Abi, functionName: 'transfer', args: [to, amount] }, GAS.transfer)
}

export async function balanceOf(c: TestChain, token: Address, who: Address): Promise<bigint> {
  return c.pub.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [who] })
}

/** factory.createPair; returns the pair's address. */
export async function createPair(c: TestChain, factory: Address, a: Address, b: Address): Promise<Address> {
  await write(c, 0, { address: factory, abi: factoryAbi, functionName: 'createPair', args: [a, b] }, GAS.createPair)
  const pair = (await c.pub.readContract({
    address: factory,
    abi: factoryAbi,
    functionName: 'getPair',
    args: [a, b],
  })) as Address
  return pair.toLowerCase() as Address
}

export async function reserves(c: TestChain, pair: Address): Promise<[bigint, bigint]> {
  const r = (await c.pub.readContract({ address: pair, abi: pairAbiFull, functionName: 'getReserves' })) as readonly [
    bigint,
    bigint,
    number,
  ]
  return [r[0], r[1]]
}

export async function token0(c: TestChain, pair: Address): Promise<Address> {
  const t = (await c.pub.readContract({ address: pair, abi: pairAbiFull, functionName: 'token0' })) as Address
  return t.toLowerCase() as Address
}

/** Transfers both amounts into the pair and mints its liquidity to account 0. */
export async function addLiquidity(
  c: TestChain,
  pair: Address,
  a: Address,
  amountA: bigint,
  b: Address,
  amountB: bigint,
) {
  await transfer(c, 0, a, pair, amountA)
  await transfer(c, 0, b, pair, amountB)
  await write(c, 0, { address: pair, abi: pairAbiFull, functionName: 'mint', args: [c.accounts[0]!.address] }, GAS.mint)
}

/**
 * Swaps `amountIn` of `tokenIn` through the pair as account `who` (which must hold it), asking for
 * exactly getAmountOut's output (`extraOut` more to provoke the pair's K check).
 */
export async function swap(
  c: TestChain,
  who: number,
  pair: Address,
  tokenIn: Address,
  amountIn: bigint,
  extraOut = 0n,
): Promise<bigint> {
  const [r0, r1] = await reserves(c, pair)
  const zeroForOne = (await token0(c, pair)) === tokenIn.toLowerCase()
  const out = getAmountOut(amountIn, zeroForOne ? r0 : r1, zeroForOne ? r1 : r0) + extraOut
  await transfer(c, who, tokenIn, pair, amountIn)
  await write(
    c,
    who,
    {
      address: pair,
      abi: pairAbiFull,
      functionName: 'swap',
      args: zeroForOne ? [0n, out, c.accounts[who]!.address, '0x'] : [out, 0n, c.accounts[who]!.address, '0x'],
    },
    GAS.swap,
  )
  return out
}
