// Replacing a stuck trade (unit; viem's clients faked): a trade not mined within replaceAfterMs is
// sent again with the same nonce and both fees raised ≥ 12.5%, at most maxReplacements times and
// never above the gas price cap; each send asks the contract for the profit its own fee needs; the
// receipt that lands is the one returned, with its own hash (an earlier send may win).
// On a real chain (Cairn dev node and Anvil, automine off): test/arbitrage/replace.e2e.test.ts.
import { type CairnError, isCairnError, silentLogger } from '@cairn/utils'
import { type PublicClient, WaitForTransactionReceiptTimeoutError, type WalletClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { describe, expect, it } from 'vitest'
import { tradeWaitFlags } from '../src/cli/index.ts'
import { ArbErrorCode } from '../src/errors.ts'
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

/**
 * viem's clients faked, with a clock the waits advance: send n ≥ `minedAfter` is mined at once; an
 * earlier one `lateMs` after the wait starts (after the replacement timeout: Infinity for never).
 */
function fakes(
  minedAfter: number,
  cap?: bigint,
  landed?: (waited: number) => number,
  more: { lateMs?: number; replaceAfterMs?: number; stuckTimeoutMs?: number } = {},
) {
  let clock = 0
  const lateMs = more.lateMs ?? 1_000
  type Send = { nonce?: number; maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint; args: readonly unknown[] }
  const sends: Send[] = []
  const waits: (number | undefined)[] = []
  const wallet = {
    chain: null,
    writeContract: async (req: Send) => {
      sends.push({ ...req })
      return `0x${sends.length.toString(16).padStart(64, '0')}`
    },
  } as unknown as WalletClient
  const pub = {
    waitForTransactionReceipt: async ({ hash, timeout }: { hash: `0x${string}`; timeout?: number }) => {
      waits.push(timeout)
      const after = Number.parseInt(hash.slice(2), 16) < minedAfter ? lateMs : 0
      if (timeout !== undefined && after > timeout) {
        clock += timeout
        throw new WaitForTransactionReceiptTimeoutError({ hash })
      }
      clock += after
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
    {
      address: tok(99),
      replaceAfterMs: more.replaceAfterMs ?? 1,
      maxReplacements: 3,
      ...(more.stuckTimeoutMs !== undefined ? { stuckTimeoutMs: more.stuckTimeoutMs } : {}),
    },
    {
      public: pub,
      wallet,
      account: privateKeyToAccount(`0x${'4c'.repeat(32)}`),
      logger: silentLogger,
      now: () => clock,
      ...(cap !== undefined ? { gasPriceCap: () => cap } : {}),
    },
  )
  return { client, sends, waits, clock: () => clock }
}

/** A trade's first send: 300k gas at 1000/100 wei per gas, nonce 17. */
const TX17 = { gas: 300_000n, maxFeePerGas: 1000n, maxPriorityFeePerGas: 100n, nonce: 17 }

describe('stuck trade replacement', () => {
  it('re-sends with the same nonce and raised fees until one lands', async () => {
    const { graph, o } = market()
    const { client, sends } = fakes(3)
    const x = await client.execute(graph, o, 1n, TX17)
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
    const x = await client.execute(graph, o, 1n, TX17)
    expect(x.hash).toBe(`0x${'1'.padStart(64, '0')}`)
    expect(sends).toHaveLength(1)
  })

  it('gives up at the deadline when the cap keeps it from replacing: ARB_TRADE_STUCK with the hash and nonce', async () => {
    const { graph, o } = market()
    const { client, sends, waits, clock } = fakes(2, 1100n, undefined, { lateMs: Infinity, stuckTimeoutMs: 5_000 })
    const err = await client.execute(graph, o, 1n, TX17).then(
      () => null,
      (e: unknown) => e,
    )
    expect(isCairnError(err, ArbErrorCode.TRADE_STUCK)).toBe(true)
    const stuck = err as CairnError<'ARB_TRADE_STUCK'>
    expect(stuck.meta).toEqual({ hash: `0x${'1'.padStart(64, '0')}`, nonce: 17, waitedMs: 5_000 })
    expect(stuck.fault).toBe('transient')
    expect(stuck.message).toMatch(/not mined within 5 s \(nonce 17\)/)
    expect(stuck.hint).toMatch(/raise the gas price cap/)
    // one send; the replacement timeout (1 ms), then the rest of the deadline, never past it
    expect(sends).toHaveLength(1)
    expect(waits).toEqual([1, 4_999])
    expect(clock()).toBe(5_000)
  })

  it('gives up at the deadline without replacement too (replaceAfterMs 0), after one wait of the whole deadline', async () => {
    const { graph, o } = market()
    const { client, sends, waits } = fakes(2, undefined, undefined, {
      lateMs: Infinity,
      replaceAfterMs: 0,
      stuckTimeoutMs: 60_000,
    })
    const err = await client
      .execute(graph, o, 1n, { gas: 300_000n, maxFeePerGas: 1000n, maxPriorityFeePerGas: 100n })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ARB_TRADE_STUCK', meta: { nonce: undefined, waitedMs: 60_000 } })
    expect(sends).toHaveLength(1)
    expect(waits).toEqual([60_000])
  })

  it('a trade that lands before the deadline is answered, the deadline counted from the first send', async () => {
    const { graph, o } = market()
    // replaced three times (1 ms each), the first send then lands 1 s into the last wait
    const { client, sends, waits } = fakes(99, undefined, () => 1, { stuckTimeoutMs: 2_000 })
    const x = await client.execute(graph, o, 1n, TX17)
    expect(x.hash).toBe(`0x${'1'.padStart(64, '0')}`)
    expect(sends).toHaveLength(4)
    expect(waits).toEqual([1, 1, 1, 1_997])
  })

  it('answers the hash that was mined when an earlier send landed instead of the replacement', async () => {
    const { graph, o } = market()
    // the replacement (send 2) is what is waited for, the original (send 1) is what the chain mined
    const { client, sends } = fakes(2, undefined, () => 1)
    const x = await client.execute(graph, o, 1n, TX17)
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

describe('--replace-after-ms / --stuck-timeout-ms', () => {
  it('takes whole milliseconds, replacement before the deadline; says what was wrong otherwise', () => {
    expect(tradeWaitFlags({ replaceAfterMs: '0', stuckTimeoutMs: '180000' })).toEqual({
      replaceAfterMs: 0,
      stuckTimeoutMs: 180_000,
      breakerCooldownMs: 60_000,
    })
    expect(tradeWaitFlags({ replaceAfterMs: '12000', stuckTimeoutMs: '60000', breakerCooldownMs: '5000' })).toEqual({
      replaceAfterMs: 12_000,
      stuckTimeoutMs: 60_000,
      breakerCooldownMs: 5_000,
    })
    expect(() =>
      tradeWaitFlags({ replaceAfterMs: '0', stuckTimeoutMs: '180000', breakerCooldownMs: '5' }),
    ).toThrowError(/--breaker-cooldown-ms must be whole milliseconds from 1000 to a day, got 5/)
    expect(() => tradeWaitFlags({ replaceAfterMs: 'soon', stuckTimeoutMs: '180000' })).toThrowError(
      /--replace-after-ms must be whole milliseconds .* got soon/,
    )
    expect(() => tradeWaitFlags({ replaceAfterMs: '0', stuckTimeoutMs: '0' })).toThrowError(
      /--stuck-timeout-ms must be whole milliseconds from 1/,
    )
    expect(() => tradeWaitFlags({ replaceAfterMs: '60000', stuckTimeoutMs: '60000' })).toThrowError(
      /--replace-after-ms \(60000\) must be below --stuck-timeout-ms \(60000\)/,
    )
  })
})
