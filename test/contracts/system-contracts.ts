// The Staking and Governance system contracts on a real in-process Cairn dev node, placed as genesis
// places them (runtime code at the fixed addresses, anvil_setCode) and initialized by the system
// address (impersonated), with helpers to call them as any account and to read their accounting.

import { accountingImbalance, accountingOf, type StakingParams } from '@cairn/consensus/staking'
import { GOVERNANCE_ADDRESS, governance, STAKING_ADDRESS, SYSTEM_ADDRESS, staking } from '@cairn/contracts'
import {
  type Abi,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  type TransactionReceipt,
  type WalletClient,
} from 'viem'
import { type StartedNode, startDevNode } from '../rpc/live-node.ts'

export { GOVERNANCE_ADDRESS, STAKING_ADDRESS, SYSTEM_ADDRESS }
export const stakingAbi = staking.abi as Abi
export const governanceAbi = governance.abi as Abi
export const ETH = 10n ** 18n

export type { StakingParams }

/** Small devnet-like parameters: 1 ETH = 1 power, 10-block unbonding, 10-block window. */
export const testParams = (over: Partial<StakingParams> = {}): StakingParams => ({
  epochLength: 10n,
  maxValidators: 4,
  minSelfBond: ETH,
  powerReduction: ETH,
  unbondingBlocks: 10n,
  issuancePerBlock: ETH,
  annualRateBps: 0,
  blocksPerYear: 1_000n,
  communityTaxBps: 200,
  signedBlocksWindow: 10n,
  minSignedPerWindowBps: 5_000,
  slashFractionDoubleSignBps: 500,
  slashFractionDowntimeBps: 100,
  downtimeJailSeconds: 600n,
  maxPowerChangeBps: 3_000,
  ...over,
})

/** One contract call: from, to, abi, function, args, value. */
export type Call = [from: Hex, to: Hex, abi: Abi, fn: string, args?: unknown[], value?: bigint]

export interface Harness {
  node: StartedNode
  url: string
  pub: PublicClient
  wallet: WalletClient
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>
  /** A fresh impersonated account holding `eth` ether. */
  account(eth?: bigint): Promise<Hex>
  /** Sends a transaction calling `fn` on the contract at `to` from `from`; returns the receipt (status checked). */
  send(from: Hex, to: Hex, abi: Abi, fn: string, args?: unknown[], value?: bigint): Promise<TransactionReceipt>
  /** Like send, but a reverted transaction (mined, status reverted) gives null instead of throwing. */
  trySend(
    from: Hex,
    to: Hex,
    abi: Abi,
    fn: string,
    args?: unknown[],
    value?: bigint,
  ): Promise<TransactionReceipt | null>
  /**
   * Sends the calls into one block (automine off, then evm_mine): many transactions for the price of
   * one block. Every one must succeed. Returns the receipts in order.
   */
  batch(calls: Call[]): Promise<TransactionReceipt[]>
  /** The custom error name a call reverts with (null when it does not revert). */
  revertOf(from: Hex, to: Hex, abi: Abi, fn: string, args?: unknown[], value?: bigint): Promise<string | null>
  read<T = unknown>(to: Hex, abi: Abi, fn: string, args?: unknown[]): Promise<T>
  st<T = unknown>(fn: string, args?: unknown[]): Promise<T>
  gov<T = unknown>(fn: string, args?: unknown[]): Promise<T>
  /** A system call to Staking (impersonating SYSTEM_ADDRESS). */
  system(fn: string, args?: unknown[], value?: bigint): Promise<TransactionReceipt>
  mine(blocks: number): Promise<void>
  /** Mines a block `seconds` after the head's timestamp (a dev chain's blocks may run ahead of the wall clock). */
  warp(seconds: bigint): Promise<void>
  blockNumber(): Promise<bigint>
  /** Staking's balance minus what its accounting says it holds (0n when conserved: the invariant of consensus's staking/invariants.ts). */
  imbalance(): Promise<bigint>
  close(): Promise<void>
}

let fresh = 0
export function freshAddress(): Hex {
  fresh++
  const r = Math.floor(Math.random() * 0xffffffff)
  return getAddress(`0x${'5a'.repeat(8)}${r.toString(16).padStart(8, '0')}${fresh.toString(16).padStart(16, '0')}`)
}

/** Starts a dev node and places both contracts (not initialized). */
export async function startHarness(): Promise<Harness> {
  const node = await startDevNode()
  const url = node.url
  const transport = http(url, { timeout: 20_000 })
  const pub = createPublicClient({ transport }) as PublicClient
  const wallet = createWalletClient({ transport })
  const chainId = await pub.getChainId()
  const chain = {
    id: chainId,
    name: 'cairn-dev',
    nativeCurrency: { name: 'ETH', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  }
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> =>
    (await pub.request({ method: method as never, params: params as never })) as T
  await rpc('anvil_setCode', [STAKING_ADDRESS, staking.deployedBytecode])
  await rpc('anvil_setCode', [GOVERNANCE_ADDRESS, governance.deployedBytecode])
  await rpc('anvil_impersonateAccount', [SYSTEM_ADDRESS])
  await rpc('anvil_setBalance', [SYSTEM_ADDRESS, `0x${(10n ** 30n).toString(16)}`])

  const submit = (from: Hex, to: Hex, abi: Abi, fn: string, args: unknown[] = [], value = 0n, gas = 16_000_000n) =>
    wallet.writeContract({
      account: from,
      chain,
      address: to,
      abi,
      functionName: fn,
      args,
      value,
      gas,
    } as never)
  const batch = async (calls: Call[]) => {
    await rpc('evm_setAutomine', [false])
    const hashes: Hex[] = []
    try {
      // 2M gas each, so many fit one block's gas limit
      for (const [from, to, abi, fn, args, value] of calls)
        hashes.push(await submit(from, to, abi, fn, args, value, 2_000_000n))
      await rpc('evm_mine')
    } finally {
      await rpc('evm_setAutomine', [true])
    }
    const receipts = await Promise.all(hashes.map((hash) => pub.getTransactionReceipt({ hash })))
    receipts.forEach((r, i) => {
      if (r.status !== 'success') throw new Error(`batched ${calls[i]![3]} from ${calls[i]![0]} reverted`)
    })
    return receipts
  }
  const send = async (from: Hex, to: Hex, abi: Abi, fn: string, args: unknown[] = [], value = 0n) => {
    const hash = await wallet.writeContract({
      account: from,
      chain,
      address: to,
      abi,
      functionName: fn,
      args,
      value,
      gas: 16_000_000n,
    } as never)
    const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 5 })
    if (receipt.status !== 'success') {
      const why = await revertOf(from, to, abi, fn, args, value)
      throw new Error(`${fn} from ${from} reverted (${why ?? 'no reason'})`)
    }
    return receipt
  }
  const revertOf = async (from: Hex, to: Hex, abi: Abi, fn: string, args: unknown[] = [], value = 0n) => {
    try {
      await pub.simulateContract({ account: from, address: to, abi, functionName: fn, args, value, gas: 16_000_000n })
      return null
    } catch (e) {
      if (e instanceof BaseError) {
        const r = e.walk((x) => x instanceof ContractFunctionRevertedError)
        if (r instanceof ContractFunctionRevertedError) return r.data?.errorName ?? r.reason ?? 'unknown'
      }
      throw e
    }
  }
  const read = async <T>(to: Hex, abi: Abi, fn: string, args: unknown[] = []) =>
    (await pub.readContract({ address: to, abi, functionName: fn, args })) as T
  const h: Harness = {
    node,
    url,
    pub,
    wallet,
    rpc,
    account: async (eth = 1_000n) => {
      const a = freshAddress()
      await rpc('anvil_impersonateAccount', [a])
      await rpc('anvil_setBalance', [a, `0x${(eth * ETH).toString(16)}`])
      return a
    },
    send,
    trySend: async (from, to, abi, fn, args = [], value = 0n) => {
      const hash = await submit(from, to, abi, fn, args, value)
      const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 5 })
      return receipt.status === 'success' ? receipt : null
    },
    batch,
    revertOf,
    read,
    st: (fn, args) => read(STAKING_ADDRESS, stakingAbi, fn, args),
    gov: (fn, args) => read(GOVERNANCE_ADDRESS, governanceAbi, fn, args),
    system: (fn, args, value) => send(SYSTEM_ADDRESS, STAKING_ADDRESS, stakingAbi, fn, args, value),
    mine: async (blocks) => {
      await rpc('anvil_mine', [`0x${blocks.toString(16)}`])
    },
    warp: async (seconds) => {
      const head = await pub.getBlock({ blockTag: 'latest' })
      await rpc('evm_setNextBlockTimestamp', [Number(head.timestamp + seconds)])
      await rpc('evm_mine')
    },
    blockNumber: () => pub.getBlockNumber({ cacheTime: 0 }),
    imbalance: async () => {
      const balance = await pub.getBalance({ address: STAKING_ADDRESS })
      return accountingImbalance(balance, accountingOf(await read<bigint[]>(STAKING_ADDRESS, stakingAbi, 'accounting')))
    },
    close: () => node.close(),
  }
  return h
}

export interface GenesisValidator {
  operator: Hex
  consensus: Hex
  selfBond: bigint
  commissionBps: number
}

/** initialize(...) from the system address, as the genesis builder does. */
export async function initStaking(
  h: Harness,
  p: StakingParams,
  vals: GenesisValidator[],
  gov: Hex = GOVERNANCE_ADDRESS,
) {
  const total = vals.reduce((s, v) => s + v.selfBond, 0n)
  return h.system(
    'initialize',
    [
      p,
      gov,
      vals.map((v) => v.operator),
      vals.map((v) => v.consensus),
      vals.map((v) => v.selfBond),
      vals.map((v) => v.commissionBps),
    ],
    total,
  )
}
