// Gas estimates run in the block the transaction will be in (issue 14, item 1). Uniswap V2, deployed
// from its published bytecode, writes its price accumulators in `_update` only when the block's
// timestamp moved since the pair's last update: an estimate run in the head's context (its
// timestamp) left them out, and a swap sent with exactly that estimate ran out of gas.
//
// The property: over random sequences of Uniswap operations (swaps both ways, exact in and exact
// out, adding and removing liquidity, removals with an EIP-2612 permit, time jumps, empty blocks
// or none), every operation estimated — by viem (eth_estimateGas) or by the node itself
// (eth_sendTransaction without gas) — and sent with exactly that estimate succeeds; sent with the
// access list eth_createAccessList found, it uses exactly the gas eth_createAccessList reported.
import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import {
  type Address,
  createPublicClient,
  createWalletClient,
  encodeFunctionData,
  type Hex,
  http,
  maxUint256,
  parseSignature,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.ts'
import { type StartedNode, startNode } from '../../src/node.ts'
import { devAccount, devChain } from '../e2e/helpers.ts'
import { deployUniswap, PAIR, ROUTER, type Uniswap } from './uniswap.ts'

const TRADER = devAccount(0)
const DEADLINE = 2n ** 40n
const E18 = 10n ** 18n

let node: StartedNode
let uni: Uniswap
const transport = () => http(node.url, { retryCount: 0 })
const pub = () => createPublicClient({ chain: devChain, transport: transport(), cacheTime: 0, pollingInterval: 10 })
const wallet = () =>
  createWalletClient({ account: privateKeyToAccount(TRADER.privateKey), chain: devChain, transport: transport() })

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  return (await pub().request({ method: method as never, params: params as never })) as T
}

beforeAll(async () => {
  const config = loadConfig({
    flags: { dev: true, ephemeral: true, 'http.port': 0, 'http.addr': '127.0.0.1', 'log.level': 'silent' },
    env: {},
  })
  node = await startNode(config, { logger: silentLogger })
  uni = await deployUniswap(pub() as never, wallet() as never)
  await send({ mode: 'viem', list: false }, addLiquidityCall(10n ** 24n, 10n ** 24n), 'initial liquidity')
})

afterAll(async () => {
  await node?.close()
})

// ---- Operations ----------------------------------------------------------------------------------

/** How a transaction is estimated and sent. */
interface Send {
  /** viem: estimateGas, then signed locally with exactly that gas. node: eth_sendTransaction without gas (the node estimates). */
  mode: 'viem' | 'node'
  /** With the access list eth_createAccessList finds (and its gasUsed checked against the receipt). */
  list: boolean
}

type Op =
  | ({ kind: 'swap'; aToB: boolean; exactOut: boolean; amount: bigint } & Send)
  | ({ kind: 'add'; amountA: bigint; amountB: bigint } & Send)
  | ({ kind: 'remove'; percent: bigint; permit: boolean } & Send)
  | { kind: 'increaseTime'; seconds: bigint }
  | { kind: 'setNextTimestamp'; delta: bigint }
  | { kind: 'mine' }

const router = (functionName: string, args: unknown[]) =>
  ({ to: uni.router, data: encodeFunctionData({ abi: ROUTER.abi, functionName, args }) }) as const

function addLiquidityCall(amountA: bigint, amountB: bigint) {
  return router('addLiquidity', [uni.tokenA, uni.tokenB, amountA, amountB, 0n, 0n, TRADER.address, DEADLINE])
}

async function lpBalance(): Promise<bigint> {
  return (await pub().readContract({
    address: uni.pair,
    abi: PAIR.abi,
    functionName: 'balanceOf',
    args: [TRADER.address],
  })) as bigint
}

/** An EIP-2612 permit of the pair's LP token for the router, signed by the trader. */
async function permit(value: bigint): Promise<{ v: number; r: Hex; s: Hex }> {
  const nonce = (await pub().readContract({
    address: uni.pair,
    abi: PAIR.abi,
    functionName: 'nonces',
    args: [TRADER.address],
  })) as bigint
  const signature = await wallet().signTypedData({
    domain: { name: 'Uniswap V2', version: '1', chainId: devChain.id, verifyingContract: uni.pair },
    types: {
      Permit: [
        { name: 'owner', type: 'address' },
        { name: 'spender', type: 'address' },
        { name: 'value', type: 'uint256' },
        { name: 'nonce', type: 'uint256' },
        { name: 'deadline', type: 'uint256' },
      ],
    },
    primaryType: 'Permit',
    message: { owner: TRADER.address, spender: uni.router, value, nonce, deadline: DEADLINE },
  })
  const { v, r, s } = parseSignature(signature)
  return { v: Number(v), r, s }
}

/** The router call of a transaction operation. */
async function callOf(op: Extract<Op, Send>): Promise<{ to: Address; data: Hex }> {
  const path = op.kind === 'swap' && !op.aToB ? [uni.tokenB, uni.tokenA] : [uni.tokenA, uni.tokenB]
  switch (op.kind) {
    case 'swap':
      return op.exactOut
        ? router('swapTokensForExactTokens', [op.amount, maxUint256, path, TRADER.address, DEADLINE])
        : router('swapExactTokensForTokens', [op.amount, 0n, path, TRADER.address, DEADLINE])
    case 'add':
      return addLiquidityCall(op.amountA, op.amountB)
    case 'remove': {
      const liquidity = ((await lpBalance()) * op.percent) / 100n
      const args = [uni.tokenA, uni.tokenB, liquidity, 0n, 0n, TRADER.address, DEADLINE]
      if (!op.permit) return router('removeLiquidity', args)
      // approveMax: the permit keeps the router's allowance unlimited (an exact one would be used up).
      const { v, r, s } = await permit(maxUint256)
      return router('removeLiquidityWithPermit', [...args, true, v, r, s])
    }
  }
}

interface AccessListResult {
  accessList: { address: Address; storageKeys: Hex[] }[]
  gasUsed: Hex
  error?: string
}

/** A failure of the estimate itself (the operation reverts in this state): not sent. */
const REVERTS = /revert/i

/**
 * Estimates `call` and sends it with exactly the estimate (viem), or lets the node estimate
 * (eth_sendTransaction); the receipt must say success. With `list`, the access list of
 * eth_createAccessList goes with it and the receipt's gasUsed must be what that call reported.
 * Returns undefined when the estimate found that the operation reverts here.
 */
async function send(
  how: Send,
  call: { to: Address; data: Hex },
  what: string,
): Promise<TransactionReceipt | undefined> {
  const client = pub()
  let accessList: AccessListResult['accessList'] | undefined
  let listed: AccessListResult | undefined
  if (how.list) {
    listed = await rpc<AccessListResult>('eth_createAccessList', [{ from: TRADER.address, ...call }])
    if (listed.error) {
      expect(listed.error).toMatch(REVERTS)
      return undefined
    }
    accessList = listed.accessList
  }
  let hash: Hex
  let estimate: bigint | undefined
  try {
    if (how.mode === 'viem') {
      estimate = await client.estimateGas({ account: TRADER.address, ...call, ...(accessList ? { accessList } : {}) })
      hash = await wallet().sendTransaction({ ...call, gas: estimate, ...(accessList ? { accessList } : {}) })
    } else {
      hash = await rpc<Hex>('eth_sendTransaction', [
        { from: TRADER.address, ...call, ...(accessList ? { accessList } : {}) },
      ])
    }
  } catch (err) {
    // The operation reverts in this state (e.g. a pool drained by removals): nothing to send.
    if (REVERTS.test(String((err as Error).message))) return undefined
    throw err
  }
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 10 })
  const tx = await client.getTransaction({ hash })
  expect(
    receipt.status,
    `${what} (${how.mode}${how.list ? ', access list' : ''}) sent with the estimate ${tx.gas} used ${receipt.gasUsed}`,
  ).toBe('success')
  if (estimate !== undefined) expect(tx.gas).toBe(estimate)
  if (listed) expect(receipt.gasUsed, `${what}: gasUsed of eth_createAccessList`).toBe(BigInt(listed.gasUsed))
  return receipt
}

async function apply(op: Op): Promise<'sent' | 'reverts' | 'other'> {
  switch (op.kind) {
    case 'increaseTime':
      await rpc('evm_increaseTime', [Number(op.seconds)])
      return 'other'
    case 'setNextTimestamp': {
      const head = await pub().getBlock()
      await rpc('evm_setNextBlockTimestamp', [Number(head.timestamp + op.delta)])
      return 'other'
    }
    case 'mine':
      await rpc('evm_mine')
      return 'other'
    default:
      return (await send(op, await callOf(op), op.kind)) ? 'sent' : 'reverts'
  }
}

// ---- Arbitraries ---------------------------------------------------------------------------------

const sendArb = fc.record({ mode: fc.constantFrom<'viem' | 'node'>('viem', 'node'), list: fc.boolean() })
/** 10^12 … 10^23 token units (the pool starts with 10^24 of each). */
const amountArb = fc.bigInt({ min: 12n, max: 23n }).map((e) => 10n ** e)

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({ kind: fc.constant('swap' as const), aToB: fc.boolean(), exactOut: fc.boolean(), amount: amountArb })
      .chain((o) => sendArb.map((s) => ({ ...o, ...s }))),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ kind: fc.constant('add' as const), amountA: amountArb, amountB: amountArb })
      .chain((o) => sendArb.map((s) => ({ ...o, ...s }))),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ kind: fc.constant('remove' as const), percent: fc.bigInt({ min: 1n, max: 50n }), permit: fc.boolean() })
      .chain((o) => sendArb.map((s) => ({ ...o, ...s }))),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('increaseTime' as const),
      seconds: fc.bigInt({ min: 1n, max: 1_000_000n }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('setNextTimestamp' as const), delta: fc.bigInt({ min: 1n, max: 100n }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'mine' as const }) },
)

// ---- Tests ---------------------------------------------------------------------------------------

describe('eth_estimateGas in the next block: Uniswap V2', () => {
  it('a swap right after a swap of the same pair, sent with exactly viem’s estimate, succeeds', async () => {
    const swap = { kind: 'swap', aToB: true, exactOut: false, amount: 100n * E18, mode: 'viem', list: false } as const
    const first = await send(swap, await callOf(swap), 'first swap')
    const second = await send(swap, await callOf(swap), 'second swap')
    expect(first?.status).toBe('success')
    // The second block's timestamp moved past the first's: the price accumulators were written.
    expect(second?.status).toBe('success')
  })

  it('random sequences of swaps, liquidity, permits, time jumps and blocks: every estimate is enough', async () => {
    const outcomes = { sent: 0, reverts: 0, other: 0 }
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 6 }), async (ops) => {
        const snapshot = await rpc<Hex>('evm_snapshot')
        try {
          for (const op of ops) outcomes[await apply(op)]++
        } finally {
          expect(await rpc('evm_revert', [snapshot])).toBe(true)
        }
      }),
      { numRuns: 20 },
    )
    // The sequences mostly sent transactions (a revert is an operation impossible in that state).
    expect(outcomes.sent).toBeGreaterThan(3 * outcomes.reverts)
  }, 120_000)

  it('removeLiquidityWithPermit (ecrecover) with exactly the estimate; its access list’s gas is the receipt’s', async () => {
    for (const mode of ['viem', 'node'] as const) {
      const op = { kind: 'remove', percent: 10n, permit: true, mode, list: true } as const
      expect((await send(op, await callOf(op), 'remove with permit'))?.status).toBe('success')
    }
  })

  it('eth_createAccessList: the transaction sent with its list uses exactly its gasUsed (swap, add, remove)', async () => {
    const ops: Extract<Op, Send>[] = [
      { kind: 'swap', aToB: false, exactOut: true, amount: 10n * E18, mode: 'viem', list: true },
      { kind: 'swap', aToB: true, exactOut: false, amount: 10n * E18, mode: 'viem', list: true },
      { kind: 'add', amountA: 5n * E18, amountB: 7n * E18, mode: 'node', list: true },
      { kind: 'remove', percent: 5n, permit: false, mode: 'viem', list: true },
    ]
    for (const op of ops) {
      const listed = await rpc<AccessListResult>('eth_createAccessList', [
        { from: TRADER.address, ...(await callOf(op)) },
      ])
      // The pair and both tokens are touched, with their slots: the list is not trivial.
      expect(listed.accessList.map((e) => e.address.toLowerCase())).toContain(uni.pair.toLowerCase())
      expect((await send(op, await callOf(op), op.kind))?.status).toBe('success')
    }
  })
})
