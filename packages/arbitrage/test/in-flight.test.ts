// Our unmined trades, and a later trade through their pools (unit tier): the trades still unmined
// at the block read run before it in the simulated bundle — also when an earlier trade settles
// (lands) while the receipts are being read. That race once handed the landed trade's "mined" flag
// to the next trade in the list: an unmined trade through the same pool was left out of the
// bundle, the later trade simulated on reserves it was not sized on, and its cycle quarantined
// (market.e2e on a loaded machine, interval mining).
import { silentLogger } from '@cairn/utils'
import { describe, expect, it } from 'vitest'
import type { ExecutorClient } from '../src/execution/executor.ts'
import { type Address, TokenGraph } from '../src/graph/token-graph.ts'
import { InFlightTrades } from '../src/in-flight.ts'
import { findOpportunities } from '../src/strategy/search.ts'
import { TransferFees } from '../src/strategy/transfer-fees.ts'
import { E21, pool, poolAddr, tok } from './v2-pools.ts'

function setup(receipt: (hash: string, trades: InFlightTrades) => Promise<{ blockNumber: bigint }>) {
  const graph = new TokenGraph({ base: tok(0), maxHops: 2 })
  graph.addPool(pool(1, 0, 1, E21, 2n * E21))
  graph.addPool(pool(2, 0, 1, E21, E21))
  graph.addPool(pool(3, 0, 1, E21, (E21 * 11n) / 10n))
  const bundles: string[][] = []
  const executor = {
    simulateAfter: async (_g: unknown, _o: unknown, _min: bigint, before: readonly string[]) => {
      bundles.push([...before])
      return { ok: true, profit: 1n, gas: 100_000n, flash: true }
    },
  } as unknown as ExecutorClient
  let trades: InFlightTrades
  const pub = {
    getBlockNumber: async () => 24n,
    getTransactionReceipt: ({ hash }: { hash: string }) => receipt(hash, trades),
    readContract: async ({ address }: { address: Address }) => {
      const p = graph.pool(address)!
      return [p.reserve0, p.reserve1, 0]
    },
  }
  trades = new InFlightTrades({
    graph,
    executor,
    public: pub as never,
    fees: new TransferFees({ logger: silentLogger }),
    metrics: null,
  })
  const found = findOpportunities(graph, { gas: { gasUnits: () => 0n, gasPrice: 0n } })
  return { trades, found, bundles }
}

describe('InFlightTrades.proveAfter', () => {
  it('keeps an unmined trade through the same pool in the bundle when an earlier trade lands meanwhile', async () => {
    // A (mined at 24, settles during the reads), then B (unmined) through pool 1, then `o` through pool 1.
    const { trades, found, bundles } = setup(async (hash, t) => {
      if (hash === '0xa') {
        await new Promise((r) => setTimeout(r, 5))
        t.landed('0xa')
        return { blockNumber: 24n }
      }
      throw new Error('not found')
    })
    const through1 = found.filter((o) => o.cycle.pools.includes(poolAddr(1)))
    expect(through1.length).toBeGreaterThanOrEqual(2)
    const [b, o] = through1 as [(typeof found)[0], (typeof found)[0]]
    const other = found.find((x) => !x.cycle.pools.includes(poolAddr(1))) ?? b
    trades.sent({ o: other, hash: '0xa', data: '0xaa' })
    trades.sent({ o: b, hash: '0xb', data: '0xbb' })
    const r = await trades.proveAfter(o, () => ({ minProfit: 1n }))
    expect(r).not.toBeNull()
    expect(bundles).toEqual([['0xbb']])
  })

  it('simulates on its own (null) when every trade through its pools is mined by the block read', async () => {
    const { trades, found, bundles } = setup(async () => ({ blockNumber: 23n }))
    const [b, o] = found.filter((x) => x.cycle.pools.includes(poolAddr(1))) as [(typeof found)[0], (typeof found)[0]]
    trades.sent({ o: b, hash: '0xb', data: '0xbb' })
    expect(await trades.proveAfter(o, () => ({ minProfit: 1n }))).toBeNull()
    expect(bundles).toEqual([])
  })
})
