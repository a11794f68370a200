// Fork mode (`cairn start --dev --fork-url URL`): a Cairn dev node holding Uniswap V2 state (two
// tokens, a pair with liquidity, an edited balance) is forked by a second Cairn process at a pinned
// block; reads through the fork equal the remote's, a swap and a transfer of a whole token balance
// on the fork change the forked state and read back, and the remote is left as it was. Then the
// same against an Anvil remote, when Anvil is installed (ANVIL_BIN, the repository's devDependency,
// or /tmp/anvil: see the skip message), where the fork also writes to empty storage (Anvil proves
// it with the empty trie's node): a create whose constructor writes, a first write, anvil_setCode.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { type Abi, type Address, encodeFunctionData, getAddress, type Hex, parseEther } from 'viem'
import { afterAll, describe, expect, it } from 'vitest'
import { anvilBinary, type NodeHandle, REPO_ROOT, rpcRequest, startNode } from './harness.ts'
import { devAccount, makeViemClients } from './helpers.ts'

interface BuildArtifact {
  abi: Abi
  bytecode: Hex | string
  evm?: { bytecode?: { object?: string } }
}

function artifact(name: string): { abi: Abi; bytecode: Hex } {
  const a = JSON.parse(
    readFileSync(join(REPO_ROOT, 'node_modules/@uniswap/v2-core/build', `${name}.json`), 'utf8'),
  ) as BuildArtifact
  const code = a.evm?.bytecode?.object ?? a.bytecode
  return { abi: a.abi, bytecode: (code.startsWith('0x') ? code : `0x${code}`) as Hex }
}

const ERC20 = artifact('ERC20')
const FACTORY = artifact('UniswapV2Factory')
const PAIR = artifact('UniswapV2Pair')

const nodes: NodeHandle[] = []
afterAll(async () => {
  for (const n of nodes.reverse()) {
    await n.stop()
    rmSync(n.datadir, { recursive: true, force: true })
  }
})

async function start(kind: 'cairn' | 'anvil', args: string[] = []): Promise<NodeHandle> {
  const node = await startNode(kind, { args })
  nodes.push(node)
  return node
}

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await rpcRequest<T>(url, method, params, 30_000)
  if (!('result' in res)) throw new Error(`${method}: ${JSON.stringify(res)}`)
  return res.result as T
}

const A0 = devAccount(0).address as Address
const A1 = devAccount(1).address as Address
const A2 = devAccount(2).address as Address
const EDITED = '0x00000000000000000000000000000000000c0ffe' as Address

/** Deploys two tokens, a factory and a pair with liquidity on `url` (account 0 sends); returns their addresses. */
async function deployUniswap(url: string) {
  const c = makeViemClients(url)
  const deploy = async (a: { abi: Abi; bytecode: Hex }, args: unknown[]) => {
    const hash = await c.unlocked0.deployContract({ abi: a.abi, bytecode: a.bytecode, args, gas: 5_000_000n })
    const receipt = await c.public.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    return receipt.contractAddress as Address
  }
  const send = async (to: Address, abi: Abi, functionName: string, args: unknown[]) => {
    const hash = await c.unlocked0.sendTransaction({
      to,
      data: encodeFunctionData({ abi, functionName, args }),
      gas: 5_000_000n,
    })
    const receipt = await c.public.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
  }
  const tokenA = await deploy(ERC20, [parseEther('1000000')])
  const tokenB = await deploy(ERC20, [parseEther('1000000')])
  const factory = await deploy(FACTORY, [A0])
  await send(factory, FACTORY.abi, 'createPair', [tokenA, tokenB])
  const pair = getAddress(
    (await c.public.readContract({
      address: factory,
      abi: FACTORY.abi,
      functionName: 'getPair',
      args: [tokenA, tokenB],
    })) as Address,
  )
  await send(tokenA, ERC20.abi, 'transfer', [pair, parseEther('1000')])
  await send(tokenB, ERC20.abi, 'transfer', [pair, parseEther('4000')])
  await send(pair, PAIR.abi, 'mint', [A0])
  // A token balance of account 1, to be moved away whole on the fork (its slot zeroed there).
  await send(tokenB, ERC20.abi, 'transfer', [A1, parseEther('5')])
  return { tokenA, tokenB, factory, pair }
}

type Deployed = Awaited<ReturnType<typeof deployUniswap>>

async function balanceOf(url: string, token: Address, who: Address): Promise<bigint> {
  return (await makeViemClients(url).public.readContract({
    address: token,
    abi: ERC20.abi,
    functionName: 'balanceOf',
    args: [who],
  })) as bigint
}

async function reserves(url: string, pair: Address): Promise<[bigint, bigint]> {
  const r = (await makeViemClients(url).public.readContract({
    address: pair,
    abi: PAIR.abi,
    functionName: 'getReserves',
  })) as [bigint, bigint, number]
  return [r[0], r[1]]
}

/** What a remote answers for the deployed state, to compare the fork's and the remote's after the fork's writes. */
async function snapshot(url: string, d: Deployed, block: Hex | 'latest') {
  return {
    balanceA0: await rpc<Hex>(url, 'eth_getBalance', [A0, block]),
    edited: await rpc<Hex>(url, 'eth_getBalance', [EDITED, block]),
    nonceA0: await rpc<Hex>(url, 'eth_getTransactionCount', [A0, block]),
    pairCode: await rpc<Hex>(url, 'eth_getCode', [d.pair, block]),
    // UniswapV2Pair's slot 8: reserve0, reserve1 and the last block timestamp, packed.
    pairSlot8: await rpc<Hex>(url, 'eth_getStorageAt', [d.pair, '0x8', block]),
    reserves: await reserves(url, d.pair),
    b1: await balanceOf(url, d.tokenB, A1),
  }
}

/**
 * Reads the blocks at and below the fork block through the fork and from the remote: the fork
 * block and the one before it (full and by hash), the fork block's transaction and receipt, and
 * token B's logs up to the fork block; each must be the remote's. Returns the logs.
 */
async function readPreFork(remoteUrl: string, forkUrl: string, d: Deployed, forkBlock: Hex) {
  const both = async <T>(method: string, params: unknown[]): Promise<T> => {
    const [r, f] = await Promise.all([rpc<T>(remoteUrl, method, params), rpc<T>(forkUrl, method, params)])
    expect(f, `${method} ${JSON.stringify(params)}`).toEqual(r)
    return r
  }
  const before = `0x${(BigInt(forkBlock) - 1n).toString(16)}`
  const last = await both<{ hash: Hex; transactions: { hash: Hex }[] }>('eth_getBlockByNumber', [forkBlock, true])
  // The fork block holds the last transfer of the setup: the fork answers it with its transaction.
  expect(last.transactions).toHaveLength(1)
  const earlier = await both<{ hash: Hex }>('eth_getBlockByNumber', [before, false])
  await both('eth_getBlockByHash', [earlier.hash, true])
  await both('eth_getBlockByHash', [last.hash, false])
  await both('eth_getBlockByNumber', ['earliest', false])
  const tx = last.transactions[0]?.hash as Hex
  await both('eth_getTransactionByHash', [tx])
  const receipt = await both<{ logs: unknown[] }>('eth_getTransactionReceipt', [tx])
  expect(receipt.logs).toHaveLength(1)
  const logs = await both<unknown[]>('eth_getLogs', [{ fromBlock: '0x0', toBlock: forkBlock, address: d.tokenB }])
  // Token B: minted at deploy, sent to the pair, to account 1 (3 transfers).
  expect(logs).toHaveLength(3)
  await both('eth_getLogs', [{ blockHash: last.hash }])
  // A transaction the remote does not hold: null on both.
  await both('eth_getTransactionReceipt', [`0x${'ab'.repeat(32)}`])
  return { logs }
}

/** Swaps 10 token A for token B on the pair at `url` (account 1 signs), and moves account 1's whole token B balance. */
async function swapOnFork(url: string, d: Deployed) {
  const c = makeViemClients(url)
  const [r0, r1] = await reserves(url, d.pair)
  const token0 = (await c.public.readContract({ address: d.pair, abi: PAIR.abi, functionName: 'token0' })) as Address
  const aIs0 = getAddress(token0) === getAddress(d.tokenA)
  const [rIn, rOut] = aIs0 ? [r0, r1] : [r1, r0]
  const amountIn = parseEther('10')
  const amountOut = (amountIn * 997n * rOut) / (rIn * 1000n + amountIn * 997n)
  const send = async (to: Address, abi: Abi, functionName: string, args: unknown[]) => {
    const hash = await c.local1.sendTransaction({
      to,
      data: encodeFunctionData({ abi, functionName, args }),
      gas: 500_000n,
    })
    const receipt = await c.public.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    return receipt
  }
  // Account 1 needs token A: account 0 (impersonation-free: unlocked on the node) sends it some.
  const give = await c.unlocked0.sendTransaction({
    to: d.tokenA,
    data: encodeFunctionData({ abi: ERC20.abi, functionName: 'transfer', args: [A1, amountIn] }),
    gas: 500_000n,
  })
  expect((await c.public.waitForTransactionReceipt({ hash: give })).status).toBe('success')
  await send(d.tokenA, ERC20.abi, 'transfer', [d.pair, amountIn])
  const before = await balanceOf(url, d.tokenB, A1)
  const out = aIs0 ? [0n, amountOut] : [amountOut, 0n]
  await send(d.pair, PAIR.abi, 'swap', [...out, A1, '0x'])
  expect(await balanceOf(url, d.tokenB, A1)).toBe(before + amountOut)
  const after = await reserves(url, d.pair)
  expect(aIs0 ? after : [after[1], after[0]]).toEqual([rIn + amountIn, rOut - amountOut])
  // The whole token B balance away: the slot becomes zero on the fork (a deletion in its trie).
  await send(d.tokenB, ERC20.abi, 'transfer', [A2, before + amountOut])
  expect(await balanceOf(url, d.tokenB, A1)).toBe(0n)
  return { amountOut }
}

/** Runtime code: SSTORE(0, 42), STOP. */
const STORE_42 = '0x602a60005500' as Hex
const SLOT0 = '0x0'
const WORD_42 = `0x${'2a'.padStart(64, '0')}`

/**
 * Writes to accounts whose storage is empty, on the fork at `url` (an Anvil remote proves empty
 * storage with the empty trie's node): a contract whose init code writes storage (the issue's
 * smallest case), an ERC-20 whose constructor writes its supply and balance, the first write of a
 * contract on the remote that never wrote (`neverWrote`), and one given code by anvil_setCode.
 */
async function writeEmptyStorage(url: string, neverWrote: Address) {
  const c = makeViemClients(url)
  const mined = async (hash: Hex) => {
    const receipt = await c.public.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    return receipt
  }
  const raw = await rpc<Hex>(url, 'eth_sendTransaction', [{ from: A0, data: STORE_42 }])
  const created = (await mined(raw)).contractAddress as Address
  expect(await rpc<Hex>(url, 'eth_getStorageAt', [created, SLOT0, 'latest'])).toBe(WORD_42)

  const token = (
    await mined(await c.unlocked0.deployContract({ abi: ERC20.abi, bytecode: ERC20.bytecode, args: [parseEther('7')] }))
  ).contractAddress as Address
  expect(await balanceOf(url, token, A0)).toBe(parseEther('7'))

  expect(await rpc<Hex>(url, 'eth_getStorageAt', [neverWrote, SLOT0, 'latest'])).toBe(`0x${'0'.repeat(64)}`)
  await mined(await c.unlocked0.sendTransaction({ to: neverWrote, gas: 100_000n }))
  expect(await rpc<Hex>(url, 'eth_getStorageAt', [neverWrote, SLOT0, 'latest'])).toBe(WORD_42)

  const mock = '0x000000000000000000000000000000000000beef' as Address
  expect(await rpc(url, 'anvil_setCode', [mock, STORE_42])).toBe(null)
  await mined(await c.unlocked0.sendTransaction({ to: mock, gas: 100_000n }))
  expect(await rpc<Hex>(url, 'eth_getStorageAt', [mock, SLOT0, 'latest'])).toBe(WORD_42)
}

describe('fork mode: cairn start --dev --fork-url', () => {
  it('forks a Cairn node holding Uniswap V2 state: reads equal the remote, a swap changes only the fork', async () => {
    const remote = await start('cairn')
    const d = await deployUniswap(remote.url)
    // A balance edited without a block (the remote's head state differs from its header's root).
    await rpc(remote.url, 'anvil_setBalance', [EDITED, '0x1234'])
    const forkBlock = await rpc<Hex>(remote.url, 'eth_blockNumber', [])
    const remoteBefore = await snapshot(remote.url, d, forkBlock)

    const fork = await start('cairn', ['--fork-url', remote.url, '--fork-block-number', String(BigInt(forkBlock))])
    expect(await rpc<Hex>(fork.url, 'eth_blockNumber', [])).toBe(forkBlock)
    expect(await rpc<Hex>(fork.url, 'eth_chainId', [])).toBe(await rpc<Hex>(remote.url, 'eth_chainId', []))
    const remoteBlock = await rpc<{ hash: Hex }>(remote.url, 'eth_getBlockByNumber', [forkBlock, false])
    const forkFirst = await rpc<{ hash: Hex }>(fork.url, 'eth_getBlockByNumber', [forkBlock, false])
    expect(forkFirst.hash).toBe(remoteBlock.hash)

    // Blocks at and below the fork block, their transactions, receipts and logs: the remote's (as Anvil).
    const preFork = await readPreFork(remote.url, fork.url, d, forkBlock)

    const forked = await snapshot(fork.url, d, 'latest')
    // The dev accounts are funded on the fork (as Anvil): account 0's balance is the dev balance.
    expect({ ...forked, balanceA0: remoteBefore.balanceA0 }).toEqual(remoteBefore)
    expect(BigInt(forked.balanceA0)).toBe(10_000n * 10n ** 18n)
    expect(BigInt(forked.edited)).toBe(0x1234n)

    const { amountOut } = await swapOnFork(fork.url, d)
    expect(amountOut).toBeGreaterThan(0n)
    // One transaction per block (Anvil's automine): 4 transactions, 4 blocks on top of the fork block.
    expect(BigInt(await rpc<Hex>(fork.url, 'eth_blockNumber', []))).toBe(BigInt(forkBlock) + 4n)
    // A log range across the fork block: the remote's logs, then the fork's own (two token B transfers).
    const across = await rpc<{ blockNumber: Hex }[]>(fork.url, 'eth_getLogs', [
      { fromBlock: '0x0', toBlock: 'latest', address: d.tokenB },
    ])
    expect(across.slice(0, preFork.logs.length)).toEqual(preFork.logs)
    expect(across.slice(preFork.logs.length).map((l) => BigInt(l.blockNumber) > BigInt(forkBlock))).toEqual([
      true,
      true,
    ])
    // The remote did not move.
    expect(await snapshot(remote.url, d, 'latest')).toEqual(remoteBefore)
    expect(await rpc<Hex>(remote.url, 'eth_blockNumber', [])).toBe(forkBlock)
    // A proof of forked state on the fork (eth_getProof walks the fetched trie).
    const proof = await rpc<{ storageProof: { value: Hex }[] }>(fork.url, 'eth_getProof', [d.pair, ['0x8'], 'latest'])
    expect(BigInt(proof.storageProof[0]?.value ?? '0x0')).not.toBe(BigInt(remoteBefore.pairSlot8))

    // anvil_setRpcUrl takes another URL of the remote; anvil_reset with the same fork goes back to
    // the fork block and its state (the dev accounts funded again); another block needs a restart.
    expect(await rpc(fork.url, 'anvil_setRpcUrl', [remote.url.replace('127.0.0.1', 'localhost')])).toBe(null)
    expect(
      await rpc(fork.url, 'anvil_reset', [{ forking: { jsonRpcUrl: remote.url, blockNumber: Number(forkBlock) } }]),
    ).toBe(null)
    expect(await rpc<Hex>(fork.url, 'eth_blockNumber', [])).toBe(forkBlock)
    expect(await snapshot(fork.url, d, 'latest')).toEqual(forked)
    const other = await rpcRequest(fork.url, 'anvil_reset', [{ forking: { blockNumber: 1 } }])
    expect('error' in other && other.error.code).toBe(-32602)
  }, 120_000)

  it('refuses a remote that cannot be reached, with what to do', async () => {
    const bad = startNode('cairn', { args: ['--fork-url', 'http://127.0.0.1:9', '--retries', '1'] })
    await expect(bad).rejects.toThrow(/cannot reach the fork remote http:\/\/127.0.0.1:9/)
  }, 60_000)

  const anvil = anvilPath()
  it.skipIf(!anvil)(
    `forks an Anvil node (${anvil ? 'found' : 'skipped: no Anvil binary; set ANVIL_BIN or `mkdir -p /tmp/anvil && cd /tmp/anvil && npm i @foundry-rs/anvil`'})`,
    async () => {
      process.env.ANVIL_BIN = anvil as string
      const remote = await start('anvil')
      const d = await deployUniswap(remote.url)
      await rpc(remote.url, 'anvil_setBalance', [EDITED, '0x1234'])
      // A contract on the remote that never wrote its storage.
      const neverWrote = '0x00000000000000000000000000000000000057a7' as Address
      await rpc(remote.url, 'anvil_setCode', [neverWrote, STORE_42])
      await rpc(remote.url, 'evm_mine', [])
      const forkBlock = await rpc<Hex>(remote.url, 'eth_blockNumber', [])
      const remoteBefore = await snapshot(remote.url, d, forkBlock)
      const fork = await start('cairn', ['--fork-url', remote.url])
      expect(await rpc<Hex>(fork.url, 'eth_blockNumber', [])).toBe(forkBlock)
      const forked = await snapshot(fork.url, d, 'latest')
      expect({ ...forked, balanceA0: remoteBefore.balanceA0 }).toEqual(remoteBefore)
      await swapOnFork(fork.url, d)
      await writeEmptyStorage(fork.url, neverWrote)
      // Accounts read from the remote while nothing local asked for them, then written locally:
      // every later read is the fork's.
      const c = makeViemClients(fork.url)
      const paid = await c.unlocked0.sendTransaction({ to: EDITED, value: 1n })
      expect((await c.public.waitForTransactionReceipt({ hash: paid })).status).toBe('success')
      expect(await rpc<Hex>(fork.url, 'eth_getBalance', [EDITED, 'latest'])).toBe('0x1235')
      const fresh = '0x00000000000000000000000000000000000fe5e1' as Address
      expect(await rpc<Hex>(fork.url, 'eth_getBalance', [fresh, 'latest'])).toBe('0x0')
      expect(await rpc(fork.url, 'anvil_setBalance', [fresh, '0x77'])).toBe(null)
      expect(await rpc<Hex>(fork.url, 'eth_getBalance', [fresh, 'latest'])).toBe('0x77')
      expect(await rpc<Hex>(remote.url, 'eth_getBalance', [EDITED, 'latest'])).toBe('0x1234')
      expect(await rpc<Hex>(remote.url, 'eth_getStorageAt', [neverWrote, SLOT0, 'latest'])).toBe(`0x${'0'.repeat(64)}`)
      expect(await snapshot(remote.url, d, 'latest')).toEqual(remoteBefore)
    },
    120_000,
  )
})

/** Anvil's binary: ANVIL_BIN, the repository's devDependency, or the /tmp/anvil install; else undefined. */
function anvilPath(): string | undefined {
  const candidates = [
    process.env.ANVIL_BIN,
    anvilBinary(),
    '/tmp/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil',
  ]
  return candidates.find((p) => p?.endsWith('anvil') && existsSync(p))
}
