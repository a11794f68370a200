// Replacing a stuck trade (unit; viem's clients faked): a trade not mined within replaceAfterMs is
// sent again with the same nonce and both fees raised ≥ 12.5%, at most maxReplacements times and
// never above the gas price cap; each send asks the contract for the profit its own fee needs; the
// receipt that lands is the one returned, with its own hash (an earlier send may win).
// On a real chain (Cairn dev node and Anvil, automine off): test/arbitrage/replace.e2e.test.ts.
import { silentLogger } from '@cairn/utils'
import { type PublicClient, WaitForTransactionReceiptTimeoutError, type WalletClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { ExecutorClient } from '../src/execution/executor.ts'
import { type Address, TokenGraph } from '../src/graph/token-graph.ts'
import { UNISWAP_V2_FEE } from '../src/math/v2.ts'
import { findOpportunities } from '../src/strategy/search.ts'

const tok = (i: number) => `0x${i.toString(16).padStart(40, '0')}` as Address
const poolAddr = (i: number) => `0x${(0xa000 + i).toString(16).padStart(40, '0')}` as Address

function market() {
  const graph = new TokenGraph({ base: tok(0), maxHops: 2 })
  graph.addPool({
    address: poolAddr(1),
    token0: tok(0),
    token1: tok(1),
    fee: UNISWAP_V2_FEE,
    reserve0: 10n ** 21n,
    reserve1: 2n * 10n ** 21n,
  })
  graph.addPool({
    address: poolAddr(2),
    token0: tok(0),
    token1: tok(1),
    fee: UNISWAP_V2_FEE,
    reserve0: 10n ** 21n,
    reserve1: 10n ** 21n,
  })
  const o = findOpportunities(graph, { gas: { gasUnits: () => 0n, gasPrice: 0n } })[0]!
  return { graph, o }
}

function fakes(minedAfter: number, cap?: bigint, landed?: (waited: number) => number) {
  type Send = { nonce?: number; maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint; args: readonly unknown[] }
  const sends: Send[] = []
  const wallet = {
    chain: null,
    writeContract: async (req: Send) => {
      sends.push({ ...req })
      return `0x${sends.length.toString(16).padStart(64, '0')}`
    },
  } as unknown as WalletClient
  const pub = {
    waitForTransactionReceipt: async ({ hash, timeout }: { hash: `0x${string}`; timeout?: number }) => {
      // the n-th send is the one mined within a timeout; a wait without one lasts until it is mined
      if (timeout !== undefined && Number.parseInt(hash.slice(2), 16) < minedAfter)
        throw new WaitForTransactionReceiptTimeoutError({ hash })
      return {
        status: 'success',
        gasUsed: 100n,
        effectiveGasPrice: 5n,
        blockNumber: 9n,
        logs: [],
        // viem answers the receipt of whichever send with this nonce was mined
        transactionHash: landed
          ? `0x${landed(Number.parseInt(hash.slice(2), 16))
              .toString(16)
              .padStart(64, '0')}`
          : hash,
      }
    },
    getTransaction: async ({ hash }: { hash: `0x${string}` }) => {
      const s = sends[Number.parseInt(hash.slice(2), 16) - 1]!
      return { nonce: 17, maxFeePerGas: s.maxFeePerGas, maxPriorityFeePerGas: s.maxPriorityFeePerGas }
    },
    estimateFeesPerGas: async () => ({ maxFeePerGas: 100n, maxPriorityFeePerGas: 10n }),
  } as unknown as PublicClient
  const client = new ExecutorClient(
    { address: tok(99), replaceAfterMs: 1, maxReplacements: 3 },
    {
      public: pub,
      wallet,
      account: privateKeyToAccount(`0x${'4c'.repeat(32)}`),
      logger: silentLogger,
      ...(cap !== undefined ? { gasPriceCap: () => cap } : {}),
    },
  )
  return { client, sends }
}

describe('stuck trade replacement', () => {
  it('re-sends with the same nonce and raised fees until one lands', async () => {
    const { graph, o } = market()
    const { client, sends } = fakes(3)
    const x = await client.execute(graph, o, 1n, {
      gas: 300_000n,
      maxFeePerGas: 1000n,
      maxPriorityFeePerGas: 100n,
      nonce: 17,
    })
    expect(x.hash).toBe(`0x${'3'.padStart(64, '0')}`)
    expect(sends.map((s) => s.nonce)).toEqual([17, 17, 17])
    for (let i = 1; i < sends.length; i++) {
      expect(sends[i]!.maxFeePerGas! * 1000n).toBeGreaterThanOrEqual(sends[i - 1]!.maxFeePerGas! * 1125n)
      expect(sends[i]!.maxPriorityFeePerGas! * 1000n).toBeGreaterThanOrEqual(
        sends[i - 1]!.maxPriorityFeePerGas! * 1125n,
      )
    }
  })

  it('stops raising at the gas price cap and waits for what was sent', async () => {
    const { graph, o } = market()
    const { client, sends } = fakes(2, 1100n)
    // the first bump (1125) would pass the cap (1100): no replacement, it waits for the first send
    const x = await client.execute(graph, o, 1n, {
      gas: 300_000n,
      maxFeePerGas: 1000n,
      maxPriorityFeePerGas: 100n,
      nonce: 17,
    })
    expect(x.hash).toBe(`0x${'1'.padStart(64, '0')}`)
    expect(sends).toHaveLength(1)
  })

  it('answers the hash that was mined when an earlier send landed instead of the replacement', async () => {
    const { graph, o } = market()
    // the replacement (send 2) is what is waited for, the original (send 1) is what the chain mined
    const { client, sends } = fakes(2, undefined, () => 1)
    const x = await client.execute(graph, o, 1n, {
      gas: 300_000n,
      maxFeePerGas: 1000n,
      maxPriorityFeePerGas: 100n,
      nonce: 17,
    })
    expect(sends).toHaveLength(2)
    expect(x.hash).toBe(`0x${'1'.padStart(64, '0')}`)
  })

  it("raises the contract's least profit with the fee a replacement offers", async () => {
    const { graph, o } = market()
    const { client, sends } = fakes(3)
    const gas = 300_000n
    const minProfitAt = (fee: bigint) => gas * fee + 7n
    await client.execute(graph, o, minProfitAt(1000n), {
      gas,
      maxFeePerGas: 1000n,
      maxPriorityFeePerGas: 100n,
      nonce: 17,
      minProfitAt,
    })
    expect(sends).toHaveLength(3)
    // ArbExecutor.execute(token, amountIn, minProfit, hops, flash): each send's minProfit covers its own gas
    for (const s of sends) expect(s.args[2]).toBe(minProfitAt(s.maxFeePerGas!))
    expect(sends[2]!.args[2]).toBeGreaterThan(sends[0]!.args[2] as bigint)
    for (const s of sends) expect(s.args.filter((_, i) => i !== 2)).toEqual(sends[0]!.args.filter((_, i) => i !== 2))
  })
})
