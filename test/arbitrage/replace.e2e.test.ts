// Replacing a stuck trade on a real chain (a Cairn dev node in process, and Anvil when installed):
// the composed arbitrage service (`cairn arb start`'s composition, PGlite, the in-process queue)
// with `replaceAfterMs`, automine switched off so its trade stays in the pool. The service finds a
// mispricing and sends the trade; after replaceAfterMs it sends it again with the same nonce and
// both fees raised 12.5% (the pools require 10%); the next raise would pass the gas price cap, so
// it is not sent and the trade waits. A block is mined: exactly the replacement lands (the original
// is gone), the trade is recorded once with the replacement's hash and its profit arrived. With the
// cap below the first raise, nothing is re-sent and the original lands.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writerLogger } from '@cairn/utils'
import type { InjectOptions } from 'fastify'
import { decodeFunctionData, type Hex } from 'viem'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { arbExecutorAbi } from '../../packages/arbitrage/src/execution/executor.ts'
import type { Address } from '../../packages/arbitrage/src/graph/token-graph.ts'
import { type ArbService, startArbService } from '../../packages/arbitrage/src/service/service.ts'
import {
  addLiquidity,
  balanceOf,
  createPair,
  deployExecutor,
  deployFactory,
  deployToken,
  swap,
  type TestChain,
  transfer,
} from './chain-harness.ts'
import { onEachChain } from './on-each-chain.ts'

const E18 = 10n ** 18n
const GWEI = 10n ** 9n
// dev account 0 of the "test … junk" mnemonic both chains serve
const DEV_KEY_0 = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const OPERATOR = { 'x-api-key': 'operator-key-0123456789abcdef' }
const REPLACE_AFTER_MS = 400
const MIN_PROFIT = 10n ** 15n

/** The least profit a sent ArbExecutor.execute asks the contract for. */
function minProfitOf(input: Hex): bigint {
  const { functionName, args } = decodeFunctionData({ abi: arbExecutorAbi, data: input })
  expect(functionName).toBe('execute')
  return args![2] as bigint
}

interface LogLine {
  level: string
  msg: string
  obj: Record<string, unknown>
}

const FAILURES = ['replacement not sent', 'sending the trade failed', 'simulation failed']

/** A logger that keeps what the service logs and lets the test wait for a message. */
function recordingLogger() {
  const lines: LogLine[] = []
  const waiters: {
    msg: string
    from: number
    failOn: string[]
    resolve: (l: LogLine) => void
    reject: (e: Error) => void
  }[] = []
  const failure = (l: LogLine) => new Error(`${l.msg}: ${JSON.stringify(l.obj)}`)
  const logger = writerLogger((level, obj, msg) => {
    const line = { level, msg, obj }
    lines.push(line)
    // a refused replacement or a failed send ends every wait at once (rather than at the timeout)
    for (const w of [...waiters])
      if (FAILURES.includes(line.msg) || w.failOn.includes(line.msg)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.reject(failure(line))
      }
    for (const w of [...waiters])
      if (w.msg === line.msg && lines.length > w.from) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
  })
  return {
    logger,
    lines,
    /**
     * The first line with `msg` from line index `from` on (one already logged counts); rejects at a
     * failure line (FAILURES, or one of `failOn`) that comes first.
     */
    next(msg: string, from = 0, failOn: string[] = []): Promise<LogLine> {
      for (const l of lines.slice(from)) {
        if (l.msg === msg) return Promise.resolve(l)
        if (FAILURES.includes(l.msg) || failOn.includes(l.msg)) return Promise.reject(failure(l))
      }
      return new Promise((resolve, reject) => waiters.push({ msg, from, failOn, resolve, reject }))
    },
    count: (msg: string) => lines.filter((l) => l.msg === msg).length,
  }
}

function replaceSuite(name: string, start: () => Promise<TestChain>) {
  describe(`stuck trade replacement on ${name}`, () => {
    let c: TestChain
    let svc: ArbService
    let W: Address
    let executor: Address
    const pool: Record<string, Address> = {}
    const dir = mkdtempSync(join(tmpdir(), 'arb-replace-'))
    const log = recordingLogger()
    const me = () => c.accounts[0]!.address

    const rpc = <T>(method: string, params: unknown[] = []) =>
      c.pub.request({ method: method as never, params: params as never }) as Promise<T>
    const automine = (on: boolean) => rpc('evm_setAutomine', [on])
    const inject = (req: InjectOptions) => svc.app.inject(req)

    /** The fee per gas the engine prices a trade at now (engine.quote, its default 1 gwei tip). */
    async function quote(): Promise<bigint> {
      const f = await c.pub.estimateFeesPerGas()
      return f.maxFeePerGas - f.maxPriorityFeePerGas + GWEI
    }

    /** Sets a live configuration key through the API, as an operator. */
    async function putConfig(key: string, value: bigint) {
      const r = await inject({
        method: 'PUT',
        url: `/v1/config/${key}`,
        headers: OPERATOR,
        payload: { value: value.toString() },
      })
      expect(r.statusCode).toBe(200)
    }

    const setCap = (cap: bigint) => putConfig('gasPriceCap', cap)

    beforeAll(async () => {
      c = await start()
      const [f1, f2] = [await deployFactory(c), await deployFactory(c)]
      W = await deployToken(c, 10n ** 12n * E18)
      const A = await deployToken(c, 10n ** 12n * E18)
      for (const t of [W, A]) await transfer(c, 0, t, c.accounts[2]!.address.toLowerCase() as Address, 10n ** 9n * E18)
      for (const [key, f] of [
        ['WA1', f1],
        ['WA2', f2],
      ] as const) {
        pool[key] = await createPair(c, f, W, A)
        await addLiquidity(c, pool[key]!, W, 10_000n * E18, A, 10_000n * E18)
      }
      executor = await deployExecutor(c)
      writeFileSync(join(dir, 'key'), `${DEV_KEY_0}\n`, { mode: 0o600 })
      svc = await startArbService(
        {
          rpc: c.url,
          datadir: null,
          key: { keyFile: join(dir, 'key') },
          executor,
          base: W,
          factories: [f1, f2].map((address) => ({ address, fee: { num: 997n, den: 1000n } })),
          maxHops: 2,
          searchThreads: 0,
          pollMs: 3_600_000, // the test ticks by hand
          http: null,
          auth: { jwtSecret: null, apiKeys: [{ name: 'ops', role: 'operator', key: OPERATOR['x-api-key'] }] },
          queue: { kind: 'memory' },
          runner: { role: 'all', executorId: 'replace-e2e' },
          replaceAfterMs: REPLACE_AFTER_MS,
        },
        { logger: log.logger },
      )
      expect(svc.account.toLowerCase()).toBe(me().toLowerCase())
      await putConfig('minProfit', MIN_PROFIT)
    }, 180_000)

    afterAll(async () => {
      // a failed test may leave a trade waiting in the pool: mine it so the service can stop
      if (c) {
        await automine(true).catch(() => {})
        await rpc('evm_mine').catch(() => {})
      }
      await svc?.close()
      await c?.close()
      rmSync(dir, { recursive: true, force: true })
    })

    /** Another account misprices WA1 (mined at once), then blocks are only made by evm_mine. */
    async function mispriceThenStopMining(amountIn: bigint) {
      await automine(true)
      await swap(c, 2, pool.WA1!, W, amountIn)
      await automine(false)
    }

    /** Ticks the service in the background: the trade it sends stays pending until a block is mined. */
    function tickInBackground(): Promise<void> {
      return (async () => {
        await svc.tick()
        await svc.idle()
      })()
    }

    it('re-sends a stuck trade with its nonce and raised fees; only the replacement is mined', async () => {
      await mispriceThenStopMining(1500n * E18)
      const q = await quote()
      // one raise (×1.125) fits under the cap, a second (×1.266) would not
      await setCap((q * 120n) / 100n)
      const from = log.lines.length
      const nonce = await c.pub.getTransactionCount({ address: me(), blockTag: 'latest' })
      const before = await balanceOf(c, W, executor)
      const head = await c.pub.getBlockNumber()
      const done = tickInBackground()

      const replaced = await log.next('replacement sent', from)
      const original = replaced.obj.replaces as Hex
      const replacement = replaced.obj.tx as Hex
      expect(replacement).not.toBe(original)
      // the next raise would pass the cap: not sent, the trade waits as it is
      // (a second replacement instead fails at once)
      await log.next('trade stuck at the gas price cap: waiting for it as sent', log.lines.indexOf(replaced) + 1, [
        'replacement sent',
      ])
      expect(log.count('replacement sent')).toBe(1)
      expect(await c.pub.getBlockNumber()).toBe(head) // nothing mined meanwhile

      const r = await c.pub.getTransaction({ hash: replacement })
      expect(r.nonce).toBe(nonce)
      expect(r.blockNumber).toBeNull()
      // the original's fees were the engine's quote; the replacement's are ≥ 10% higher on both, and capped
      expect(r.maxFeePerGas! * 100n).toBeGreaterThanOrEqual(q * 110n)
      expect(r.maxPriorityFeePerGas! * 100n).toBeGreaterThanOrEqual(GWEI * 110n)
      expect(r.maxFeePerGas!).toBeLessThanOrEqual((q * 120n) / 100n)
      // it pays more per gas, so it asks the contract for that much more profit: it nets the minimum or reverts
      expect(minProfitOf(r.input)).toBe(r.gas * r.maxFeePerGas! + MIN_PROFIT)
      expect(replaced.obj.minProfit).toBe(minProfitOf(r.input).toString())
      // the pool holds one transaction of ours with that nonce: the replacement
      const pending = await rpc<{ pending: Record<string, Record<string, { hash: Hex }>> }>('txpool_content')
      const mine = Object.entries(pending.pending).find(([a]) => a.toLowerCase() === me().toLowerCase())?.[1] ?? {}
      expect(Object.values(mine).map((t) => t.hash)).toEqual([replacement])

      await rpc('evm_mine')
      await done
      const block = await c.pub.getBlock({ blockNumber: head + 1n })
      expect(block.transactions).toEqual([replacement])
      // the original never lands: not in a block, not in the pool
      const gone = await rpc<{ blockNumber: Hex | null } | null>('eth_getTransactionByHash', [original])
      expect(gone === null || gone.blockNumber === null).toBe(true)
      expect(await rpc('eth_getTransactionReceipt', [original])).toBeNull()
      expect(await c.pub.getTransactionCount({ address: me(), blockTag: 'pending' })).toBe(nonce + 1)

      const trades = (await inject({ url: '/v1/trades', headers: OPERATOR })).json().trades
      expect(trades).toHaveLength(1)
      expect(trades[0].txHash).toBe(replacement)
      expect(trades[0].status).toBe('success')
      const profit = BigInt(trades[0].profit)
      expect(profit).toBeGreaterThan(0n)
      expect(BigInt(trades[0].realized)).toBeGreaterThanOrEqual(MIN_PROFIT)
      expect(await balanceOf(c, W, executor)).toBe(before + profit)
    }, 120_000)

    it('does not send a replacement that would pass the gas price cap: the original lands', async () => {
      await mispriceThenStopMining(1500n * E18)
      const q = await quote()
      await setCap((q * 110n) / 100n) // the first raise (×1.125) is already over it
      const from = log.lines.length
      const sentBefore = log.count('replacement sent')
      const before = await balanceOf(c, W, executor)
      const head = await c.pub.getBlockNumber()
      const nonce = await c.pub.getTransactionCount({ address: me(), blockTag: 'latest' })
      const done = tickInBackground()

      const capped = await log.next('trade stuck at the gas price cap: waiting for it as sent', from, [
        'replacement sent',
      ])
      const original = capped.obj.tx as Hex
      expect(log.count('replacement sent')).toBe(sentBefore)
      const t = await c.pub.getTransaction({ hash: original })
      expect(t.maxFeePerGas).toBe(q)
      expect(minProfitOf(t.input)).toBe(t.gas * q + MIN_PROFIT)
      // the nonce manager counted on past the replaced trade's nonce
      expect(t.nonce).toBe(nonce)
      expect(t.blockNumber).toBeNull()

      await rpc('evm_mine')
      await done
      expect((await c.pub.getBlock({ blockNumber: head + 1n })).transactions).toEqual([original])
      const trades = (await inject({ url: '/v1/trades', headers: OPERATOR })).json().trades
      expect(trades).toHaveLength(2)
      const last = trades.find((x: { txHash: string }) => x.txHash === original)
      expect(last?.status).toBe('success')
      expect(await balanceOf(c, W, executor)).toBe(before + BigInt(last.profit))
      await automine(true)
    }, 120_000)
  })
}

onEachChain('stuck trade replacement', replaceSuite)
