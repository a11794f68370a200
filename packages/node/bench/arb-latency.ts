// Block-to-transaction latency of the arbitrage service (issue 19), on a Cairn dev node and on Anvil,
// each a process with instant sealing: Uniswap V2 from its published bytecode (two factories, pools
// W/A in both), ArbExecutor, and `cairn arb start --ws …` as a process. ROUNDS times another account
// swaps in one pool (a mispricing, mined in block B), and an observer subscribed to the node's new
// heads over WebSocket times B's head and the head of the block that holds the service's trade
// (sealed as it arrives): that difference is the latency from a block to the transaction it caused.
// The service's own histogram (`cairn_arb_block_to_tx_seconds`: from the tick that saw the block
// to the send) is read from its /metrics beside it.
//   node --import tsx packages/node/bench/arb-latency.ts [rounds=40]
// Prints a RESULT line (JSON) with both chains' figures.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { arbExecutor } from '@cairn/contracts'
import { deriveAccounts } from '@cairn/crypto'
import {
  type Abi,
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  type PublicClient,
  type WalletClient,
  webSocket,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { deploy, FACTORY, mined, PAIR, TOKEN } from '../test/estimate/uniswap.ts'
import { findAnvil, freePort, startAnvil, startCairn, type Target } from './targets.ts'
import { DEV_MNEMONIC } from './transfers.ts'

export interface ArbLatencyFigure {
  chain: string
  rounds: number
  traded: number
  /** From the mispricing block's head to the head of the block holding the trade, at the observer. */
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** The service's histogram: mean of tick start → send, and its count. */
  serviceMeanMs: number
  serviceCount: number
}

const CAIRN_BIN = fileURLToPath(new URL('../bin/cairn.js', import.meta.url))
const E18 = 10n ** 18n
const keys = deriveAccounts(DEV_MNEMONIC, 3).map((a) => `0x${Buffer.from(a.privateKey).toString('hex')}` as Hex)

interface Market {
  w: Address
  a: Address
  pairs: [Address, Address]
  factories: [Address, Address]
  executor: Address
}

function send(
  pub: PublicClient,
  wallet: WalletClient,
  address: Address,
  abi: Abi,
  functionName: string,
  args: unknown[],
) {
  return wallet
    .writeContract({ address, abi, functionName, args, account: wallet.account ?? null, chain: null } as Parameters<
      WalletClient['writeContract']
    >[0])
    .then((h) => mined(pub, h))
}

/** Two factories with a W/A pool each (10,000 of each token), the executor; the market account funded. */
async function setUp(url: string): Promise<Market> {
  const pub = createPublicClient({ transport: http(url), cacheTime: 0 })
  const owner = createWalletClient({ account: privateKeyToAccount(keys[0]!), transport: http(url) })
  const trader = privateKeyToAccount(keys[2]!).address
  const factories = [
    await deploy(pub, owner, FACTORY, [owner.account.address]),
    await deploy(pub, owner, FACTORY, [owner.account.address]),
  ] as [Address, Address]
  const w = await deploy(pub, owner, TOKEN, [10n ** 30n])
  const a = await deploy(pub, owner, TOKEN, [10n ** 30n])
  const pairs: Address[] = []
  for (const f of factories) {
    await send(pub, owner, f, FACTORY.abi, 'createPair', [w, a])
    const pair = (await pub.readContract({
      address: f,
      abi: FACTORY.abi,
      functionName: 'getPair',
      args: [w, a],
    })) as Address
    await send(pub, owner, w, TOKEN.abi, 'transfer', [pair, 10_000n * E18])
    await send(pub, owner, a, TOKEN.abi, 'transfer', [pair, 10_000n * E18])
    await send(pub, owner, pair, PAIR.abi, 'mint', [owner.account.address])
    pairs.push(pair)
  }
  for (const t of [w, a]) await send(pub, owner, t, TOKEN.abi, 'transfer', [trader, 10n ** 9n * E18])
  const executor = await deploy(pub, owner, { abi: arbExecutor.abi as Abi, bytecode: arbExecutor.bytecode as Hex })
  return { w, a, pairs: pairs as [Address, Address], factories, executor }
}

/** `cairn arb start` against `url` (ws for subscriptions), its API on a free port; resolves once it serves /ready. */
async function startArb(
  url: string,
  wsUrl: string,
  m: Market,
  dir: string,
): Promise<{ child: ChildProcess; api: string }> {
  writeFileSync(join(dir, 'key'), `${keys[0]!.slice(2)}\n`, { mode: 0o600 })
  const port = await freePort()
  const child = spawn(
    process.execPath,
    [
      CAIRN_BIN,
      'arb',
      'start',
      '--rpc',
      url,
      '--ws',
      wsUrl,
      '--datadir',
      join(dir, 'arb'),
      '--key-file',
      join(dir, 'key'),
      '--executor',
      m.executor,
      '--base',
      m.w,
      ...m.factories.flatMap((f) => ['--factory', `${f}:30`]),
      '--max-hops',
      '2',
      '--http.port',
      String(port),
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + String(d)).slice(-4000)
  })
  const api = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 120_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cairn arb start exited (${child.exitCode}): ${stderr}`)
    try {
      if ((await fetch(`${api}/ready`)).ok) return { child, api }
    } catch {}
    if (Date.now() > deadline) throw new Error(`cairn arb start not ready within 120 s: ${stderr}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

function quantile(xs: number[], f: number): number {
  const s = [...xs].sort((x, y) => x - y)
  return s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.floor(f * s.length))] as number)
}

async function measure(target: Target, rounds: number): Promise<ArbLatencyFigure> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-arb-latency-'))
  const wsUrl = target.url.replace('http://', 'ws://')
  const m = await setUp(target.url)
  const arb = await startArb(target.url, wsUrl, m, dir)
  const pub = createPublicClient({ transport: http(target.url), cacheTime: 0 })
  const trader = createWalletClient({ account: privateKeyToAccount(keys[2]!), transport: http(target.url) })
  const arbAccount = privateKeyToAccount(keys[0]!).address.toLowerCase()
  // the observer: heads as they arrive, with the time they arrived
  const heads = new Map<bigint, number>()
  const observer = createPublicClient({ transport: webSocket(wsUrl) })
  const unwatch = observer.watchBlockNumber({
    emitOnBegin: false,
    onBlockNumber: (n) => {
      if (!heads.has(n)) heads.set(n, performance.now())
    },
  })
  const latencies: number[] = []
  try {
    // let the service's first sync settle: it has seen the head when its pools are listed
    await new Promise((r) => setTimeout(r, 1000))
    for (let i = 0; i < rounds; i++) {
      const pair = m.pairs[i % 2] as Address
      const tokenIn = i % 4 < 2 ? m.w : m.a
      // a 2% swap: pushes the pool ~4% off the other one
      await send(pub, trader, tokenIn, TOKEN.abi, 'transfer', [pair, 200n * E18])
      const [r0, r1] = (await pub.readContract({ address: pair, abi: PAIR.abi, functionName: 'getReserves' })) as [
        bigint,
        bigint,
        number,
      ]
      const t0 = (
        (await pub.readContract({ address: pair, abi: PAIR.abi, functionName: 'token0' })) as Address
      ).toLowerCase()
      const zeroForOne = t0 === tokenIn.toLowerCase()
      const [rIn, rOut] = zeroForOne ? [r0, r1] : [r1, r0]
      const out = (200n * E18 * 997n * rOut) / (rIn * 1000n + 200n * E18 * 997n)
      const swap = await send(pub, trader, pair, PAIR.abi, 'swap', [
        zeroForOne ? 0n : out,
        zeroForOne ? out : 0n,
        trader.account.address,
        '0x',
      ])
      const b = swap.blockNumber
      // the trade: the next block whose transaction is the service's
      const until = performance.now() + 15_000
      let traded: number | null = null
      for (let n = b + 1n; performance.now() < until && traded === null; ) {
        const seen = heads.get(n)
        if (seen === undefined) {
          await new Promise((r) => setTimeout(r, 5))
          continue
        }
        const block = await pub.getBlock({ blockNumber: n, includeTransactions: true })
        if (block.transactions.some((t) => typeof t !== 'string' && t.from.toLowerCase() === arbAccount)) traded = seen
        else n++
      }
      const at = heads.get(b)
      if (traded !== null && at !== undefined) latencies.push(traded - at)
    }
    const metrics = await (await fetch(`${arb.api}/metrics`)).text()
    const num = (re: RegExp) => Number(metrics.match(re)?.[1] ?? Number.NaN)
    const sum = num(/^cairn_arb_block_to_tx_seconds_sum (\S+)$/m)
    const count = num(/^cairn_arb_block_to_tx_seconds_count (\S+)$/m)
    return {
      chain: target.name,
      rounds,
      traded: latencies.length,
      p50Ms: Math.round(quantile(latencies, 0.5)),
      p99Ms: Math.round(quantile(latencies, 0.99)),
      maxMs: Math.round(Math.max(...latencies)),
      serviceMeanMs: Math.round((sum / count) * 1000),
      serviceCount: count,
    }
  } finally {
    unwatch()
    // close the observer's socket, or viem reconnects to the stopped node and reports each attempt
    const ws = observer.transport as { getRpcClient?: () => Promise<{ close(): void }> }
    ;(await ws.getRpcClient?.())?.close()
    arb.child.kill('SIGTERM')
    await new Promise((r) => (arb.child.exitCode !== null ? r(null) : arb.child.once('exit', r)))
    rmSync(dir, { recursive: true, force: true })
  }
}

const rounds = Number(process.argv[2] ?? process.env.BENCH_ARB_ROUNDS ?? 40)
const figures: ArbLatencyFigure[] = []
const cairn = await startCairn(await freePort())
try {
  figures.push(await measure(cairn, rounds))
} finally {
  await cairn.stop()
}
const anvilBin = findAnvil(process.env.ANVIL_BIN)
if (anvilBin) {
  const anvil = await startAnvil(anvilBin, await freePort(), 0, 30_000_000n)
  try {
    figures.push(await measure(anvil, rounds))
  } finally {
    await anvil.stop()
  }
}
for (const f of figures) process.stderr.write(`[arb-latency] ${JSON.stringify(f)}\n`)
console.log(`RESULT ${JSON.stringify(figures)}`)
process.exit(0)
