// The BFT benchmark (issue 18): 4 validators on this machine. By default 4 `cairn start` processes
// from `cairn devnet init` (its genesis: block time 1 s, gas limit 30,000,000 = 1,428 transfers a
// block); BENCH_BFT_MODE=in-process runs them as full nodes in this one process instead (LevelDB
// datadir, JSON-RPC, libp2p on loopback), built as packages/node/test/bft/bft-p2p.int.test.ts
// builds them — one event loop for all four, so it measures less than the processes do.
// Pre-signed transfers from the dev accounts (as /work/shared/tools/loadgen.mjs) go as JSON-RPC
// batches of eth_sendRawTransaction, each sender to one node (sender j to node j mod 4, as a wallet
// keeps its endpoint), one stream of sequential batches per node, the four at once; a poller
// follows node 1's head (eth_blockNumber every 20 ms) and reads its `finalized` block whenever the
// head moves. Figures: finalized transfers/s (first submission to the last
// transfer finalized), block time (mean interval between the finalized heights seen during the
// run), and finality latency p50/p99 (a batch's send to the poll that saw its block finalized;
// 20 ms polling). By default the load is offered as fast as the nodes admit it (the throughput at
// saturation; the latencies then include the pool's backlog, which grows with the run's length);
// BENCH_BFT_RATE=R offers R transfers a second in all instead (each node's stream carries its
// senders' share of R and sends a batch when it is due, the four staggered, whether or not the
// batches before it were answered: an open loop; pacing.ts), the latency at that rate, and
// `chainTps`, the chain's own rate over the blocks that carried the load.
//
// `node --import tsx packages/node/bench/bft.ts` (or `BENCH_BFT=1 npm run bench`). Settings:
// BENCH_BFT_TXS (20000 paced, 10000 unpaced), BENCH_BFT_SENDERS (10), BENCH_BFT_BATCH (100), BENCH_BFT_RATE (0: unpaced), BENCH_BFT_MODE
// (processes | in-process), BENCH_BFT_BASE_PORT (28645: JSON-RPC of node 1, p2p from +100),
// BENCH_BFT_BLOCK_MS (1000: the wait after a commit), BENCH_BFT_GAS_LIMIT (30,000,000), BENCH_BFT_STAKING
// (1; 0: a genesis validator set without the staking contracts),
// BENCH_BFT_NODE_ARGS (node flags for the processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"),
// BENCH_BFT_SCHEME (secp256k1 | hybrid: votes signed secp256k1 ‖ ML-DSA-65, `devnet init
// --signature-scheme hybrid`, staked unless BENCH_BFT_STAKING=0; processes mode only;
// docs/consensus/post-quantum.md),
// BENCH_BFT_METRICS (a directory: each process's /metrics after the run, node-N.prom). BENCH_JSON=1 prints
// the figures as a `RESULT {json}` line (run.ts reads it).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deriveAccounts, ecdsaSign, keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { type Hex, serializeTransaction } from 'viem'
import type { StartedNode } from '../src/node.ts'
import { startValidator, writeBftSetup } from '../test/bft/validators.ts'
import { batchDueTimes } from './pacing.ts'
import { RpcClient } from './rpc-client.ts'
import { cpuMsOf, envNumber } from './targets.ts'
import { DEV_MNEMONIC } from './transfers.ts'

const env = process.env
const num = envNumber
const settings = {
  // Unpaced, the backlog past what the blocks take piles up in the pools (5,120 slots each, as
  // geth's): 20,000 at once would be refused "txpool is full" and strand later nonces.
  txs: num('BENCH_BFT_TXS', num('BENCH_BFT_RATE', 0) > 0 ? 20_000 : 10_000),
  senders: num('BENCH_BFT_SENDERS', 10),
  batch: num('BENCH_BFT_BATCH', 100),
  /** Transfers a second offered in all (0: as fast as the nodes admit them). */
  rate: num('BENCH_BFT_RATE', 0),
  blockMs: num('BENCH_BFT_BLOCK_MS', 1000),
  gasLimit: num('BENCH_BFT_GAS_LIMIT', 30_000_000),
  mode: env.BENCH_BFT_MODE === 'in-process' ? 'in-process' : 'processes',
  basePort: num('BENCH_BFT_BASE_PORT', 28645),
  /** Node flags for the 4 processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
  nodeArgs: (env.BENCH_BFT_NODE_ARGS ?? '').split(' ').filter(Boolean),
  /** The consensus signature scheme: secp256k1 (default) or hybrid (4 hybrid validators). */
  scheme: env.BENCH_BFT_SCHEME === 'hybrid' ? 'hybrid' : 'secp256k1',
}
if (env.BENCH_BFT_SCHEME !== undefined && !['secp256k1', 'hybrid'].includes(env.BENCH_BFT_SCHEME)) {
  throw new Error(`BENCH_BFT_SCHEME=${env.BENCH_BFT_SCHEME}: expected secp256k1 or hybrid`)
}
if (settings.scheme === 'hybrid' && settings.mode === 'in-process') {
  throw new Error('BENCH_BFT_SCHEME=hybrid runs in processes mode only (cairn devnet init --signature-scheme hybrid)')
}
const VALIDATORS = 4
const log = (msg: string) => process.stderr.write(`[bft] ${msg}\n`)

export interface BftFigure {
  validators: number
  /** `in-process`: the 4 nodes share one process (one event loop); `processes`: 4 `cairn start`. */
  mode: string
  /** The consensus signature scheme (BENCH_BFT_SCHEME). */
  scheme: string
  txs: number
  /** Transfers a second offered (0: unpaced, as fast as admitted). */
  rate: number
  accepted: number
  finalized: number
  seconds: number
  sendSeconds: number
  /** Finalized transfers per second, first submission to the last one finalized. */
  tps: number
  /**
   * The chain's rate over the blocks that carried the load: their transfers after the first such
   * block's, over the time from that block to the last (as each was seen finalized). A finite run's
   * `tps` includes one finality latency of ramp-up and tail; this is the rate the chain kept.
   */
  chainTps: number
  /** Mean interval between finalized heights seen during the run, ms. */
  blockMs: number
  blocks: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  maxMs: number
  /** Heights of the run committed in a later round than 0 (from cairn_getCommit). */
  laterRounds: number
  /** CPU the nodes used from the first send to the end of the run (processes: the 4 nodes'; in process: this process'). */
  nodeCpuSeconds: number
  blockTimeMs: number
  gasLimit: number
  load: number[]
  firstError?: string
}

const CAIRN_BIN = fileURLToPath(new URL('../bin/cairn.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'cairn-bft-bench-'))
const writeSetup = (senders: Hex[]) =>
  writeBftSetup(dir, {
    seed: 'cairn-bft-bench',
    validators: VALIDATORS,
    chainId: 4243n,
    accounts: senders,
    blockTimeMs: settings.blockMs,
    gasLimit: BigInt(settings.gasLimit),
  })
const start = (i: number, genesis: string, bootnodes: string[]) => startValidator(dir, i, genesis, bootnodes)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function run(urls: string[], cpuMs: () => number | undefined): Promise<BftFigure> {
  const clients = urls.map((u) => new RpcClient(u, 2))
  // The poller's own connection (node 1's client carries node 1's sends).
  const watch = new RpcClient(urls[0] as string, 1)
  const accounts = deriveAccounts(DEV_MNEMONIC, settings.senders)
  // Every validator at height 2 first: the mesh is up and rounds run at their pace.
  for (;;) {
    const heights = await Promise.all(clients.map((c) => c.call<Hex>('eth_blockNumber').catch(() => '0x0')))
    if (heights.every((h) => Number(h) >= 2)) break
    await sleep(100)
  }
  const chainId = Number(await watch.call<Hex>('eth_chainId'))
  const raws: Hex[] = []
  const hashes: string[] = []
  for (let i = 0; i < settings.txs; i++) {
    const j = i % accounts.length
    const a = accounts[j] as (typeof accounts)[number]
    const tx = {
      type: 'eip1559',
      chainId,
      nonce: Math.floor(i / accounts.length),
      to: `0x${(0x100000 + i).toString(16).padStart(40, 'c')}` as Hex,
      value: 1n,
      gas: 21000n,
      maxFeePerGas: 10n ** 13n,
      maxPriorityFeePerGas: 10n ** 9n,
    } as const
    const sig = ecdsaSign(keccak256(hexToBytes(serializeTransaction(tx))), a.privateKey)
    const raw = serializeTransaction(tx, { r: bytesToHex(sig.r), s: bytesToHex(sig.s), yParity: sig.recovery })
    raws.push(raw)
    hashes.push(bytesToHex(keccak256(hexToBytes(raw))))
  }
  log(
    `${settings.txs} transfers signed; sending in batches of ${settings.batch}, each sender to one of the ${VALIDATORS} nodes`,
  )

  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  let next = Number(await watch.call<Hex>('eth_blockNumber', []))
  // Heights already finalized before the first send carry none of these transfers; walk from there.
  const fin0 = await watch.call<{ number: Hex }>('eth_getBlockByNumber', ['finalized', false])
  next = Math.min(next, Number(fin0.number))
  const runHeights: number[] = []
  const seenAt: number[] = []
  const carrying: { at: number; txs: number }[] = []
  let sending = true
  let accepted = 0
  let finalized = 0
  let firstError: string | undefined
  let lastFinal = 0
  const t0 = performance.now()
  const cpu0 = cpuMs()
  const poller = (async () => {
    let until = Date.now() + 120_000
    let said = performance.now()
    let head = -1
    let top = next
    while ((sending || finalized < accepted) && Date.now() < until) {
      // eth_blockNumber every 20 ms (a few bytes); the finalized block (with its ~1,400 hashes) only
      // when the head moved: fetching it at every poll made node 1 format 50 blocks of hashes a
      // second, an observer's load on the node measured.
      const h = Number(await watch.call<Hex>('eth_blockNumber', []))
      const now = performance.now()
      if (h !== head) {
        head = h
        const f = await watch.call<{ number: Hex }>('eth_getBlockByNumber', ['finalized', false])
        top = Number(f.number)
        // A BFT head is committed, hence final: if not yet seen as such, ask again next poll.
        if (top < head) head = -1
      }
      while (next < top) {
        next++
        runHeights.push(next)
        seenAt.push(now)
        const b = await watch.call<{ transactions: string[] }>('eth_getBlockByNumber', [
          `0x${next.toString(16)}`,
          false,
        ])
        let carried = 0
        for (const h of b.transactions) {
          const t = sentAt.get(h)
          if (t !== undefined) {
            latencies.push(now - t)
            finalized++
            carried++
            lastFinal = now
          }
        }
        if (carried > 0) carrying.push({ at: now, txs: carried })
      }
      if (sending) until = Date.now() + 120_000
      if (now - said > 2000) {
        said = now
        log(
          `${((now - t0) / 1000).toFixed(1)} s: ${accepted} accepted, ${finalized} finalized; head ${head}, finalized ${top}${firstError ? `; first error ${firstError}` : ''}`,
        )
      }
      await sleep(20)
    }
  })()
  // Each sender talks to one node (sender j to node j mod 4), as a wallet keeps its RPC endpoint:
  // a node's pool sees that sender's nonces without gaps, the others get them by gossip.
  const queues = clients.map((_, n) =>
    raws.map((_, i) => i).filter((i) => (i % accounts.length) % clients.length === n),
  )
  // One stream of batches per node, the four at once. Unpaced, each batch waits for the previous
  // one's answer. Paced, each stream carries its share of the rate (pacing.ts: every stream spans
  // the load's time), and a batch is sent when due whatever the answers before it (an open loop,
  // as users are: a slow answer does not lower the offered rate, and its wait counts in the latency).
  const due = batchDueTimes(
    queues.map((q) => q.length),
    settings.batch,
    settings.rate > 0 ? settings.rate : 1,
  )
  const send = async (n: number, idx: number[]) => {
    const now = performance.now()
    for (const i of idx) sentAt.set(hashes[i] as string, now)
    const res = await (clients[n] as RpcClient).batch(idx.map((i) => ['eth_sendRawTransaction', [raws[i]]]))
    for (const r of res) {
      if (!r.error) accepted++
      else firstError ??= JSON.stringify(r.error)
    }
  }
  await Promise.all(
    queues.map(async (q, n) => {
      const inFlight: Promise<void>[] = []
      for (let off = 0, k = 0; off < q.length; off += settings.batch, k++) {
        const idx = q.slice(off, off + settings.batch)
        if (settings.rate === 0) {
          await send(n, idx)
          continue
        }
        const wait = t0 + (due[n]?.[k] as number) - performance.now()
        if (wait > 0) await sleep(wait)
        inFlight.push(send(n, idx))
      }
      await Promise.all(inFlight)
    }),
  )
  const tSent = performance.now()
  sending = false
  await poller
  const cpu1 = cpuMs()
  // Rounds: a height's commit certificate names the round it was decided in.
  let laterRounds = 0
  for (const h of runHeights) {
    const c = await watch.call<{ round?: number | Hex } | null>('cairn_getCommit', [`0x${h.toString(16)}`])
    if (c && Number(c.round ?? 0) > 0) laterRounds++
  }
  for (const c of clients) c.close()
  watch.close()
  latencies.sort((a, b) => a - b)
  const q = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0)
  const seconds = ((lastFinal || performance.now()) - t0) / 1000
  const intervals = seenAt.length > 1 ? ((seenAt.at(-1) as number) - (seenAt[0] as number)) / (seenAt.length - 1) : 0
  return {
    validators: VALIDATORS,
    mode: settings.mode,
    scheme: settings.scheme,
    txs: settings.txs,
    rate: settings.rate,
    accepted,
    finalized,
    seconds: +seconds.toFixed(3),
    sendSeconds: +((tSent - t0) / 1000).toFixed(3),
    tps: Math.round(finalized / seconds),
    chainTps: chainRate(carrying),
    blockMs: Math.round(intervals),
    blocks: runHeights.length,
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    p99Ms: q(0.99),
    maxMs: Math.round(latencies.at(-1) ?? 0),
    laterRounds,
    nodeCpuSeconds: cpu0 !== undefined && cpu1 !== undefined ? +((cpu1 - cpu0) / 1000).toFixed(1) : -1,
    blockTimeMs: settings.blockMs,
    gasLimit: settings.gasLimit,
    load: loadavg().map((l) => +l.toFixed(2)),
    ...(firstError ? { firstError } : {}),
  }
}

/** Transfers of the carrying blocks after the first, over the time from the first to the last (0: fewer than two). */
function chainRate(carrying: { at: number; txs: number }[]): number {
  const first = carrying[0]
  const last = carrying.at(-1)
  if (first === undefined || last === undefined || last.at <= first.at) return 0
  const txs = carrying.slice(1).reduce((sum, b) => sum + b.txs, 0)
  return Math.round((txs * 1000) / (last.at - first.at))
}

/** 4 `cairn start` processes from `cairn devnet init` (gas limit and block time: the devnet's). */
async function startProcesses(): Promise<{
  urls: string[]
  cpuMs: () => number | undefined
  stop: () => Promise<void>
}> {
  const init = spawnSync(
    process.execPath,
    [
      CAIRN_BIN,
      'devnet',
      'init',
      '--validators',
      String(VALIDATORS),
      '--dir',
      join(dir, 'devnet'),
      '--base-port',
      String(settings.basePort),
      '--p2p-base-port',
      String(settings.basePort + 100),
      // The block time and gas limit settings (the devnet's defaults: 1 s, 30,000,000); with
      // staking (the default) the gas limit is also governance's target, so blocks keep it.
      '--gas-limit',
      String(settings.gasLimit),
      '--block-time-ms',
      String(settings.blockMs),
      ...(env.BENCH_BFT_STAKING === '0' ? ['--no-staking'] : []),
      // Hybrid: ML-DSA seeds beside the keys, their public keys in the genesis (and the staking contract).
      ...(settings.scheme === 'hybrid' ? ['--signature-scheme', 'hybrid'] : []),
    ],
    { encoding: 'utf8' },
  )
  if (init.status !== 0) throw new Error(`cairn devnet init failed: ${init.stderr}`)
  const procs: ChildProcess[] = []
  for (let i = 1; i <= VALIDATORS; i++) {
    procs.push(
      spawn(
        process.execPath,
        [
          ...settings.nodeArgs,
          CAIRN_BIN,
          'start',
          '--config',
          join(dir, 'devnet', `node-${i}.toml`),
          '--log.level',
          'warn',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      ),
    )
  }
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null) return resolve()
            p.once('exit', () => resolve())
            p.kill('SIGTERM')
          }),
      ),
    )
  }
  const cpuMs = () => {
    let total = 0
    for (const p of procs) {
      const ms = cpuMsOf(p.pid)
      if (ms === undefined) return undefined
      total += ms
    }
    return total
  }
  return { urls: procs.map((_, i) => `http://127.0.0.1:${settings.basePort + i}`), cpuMs, stop }
}

const nodes: StartedNode[] = []
let stopProcesses: (() => Promise<void>) | undefined
let figure: BftFigure | undefined
try {
  if (settings.mode === 'processes') {
    const started = await startProcesses()
    stopProcesses = started.stop
    log(
      `${VALIDATORS} \`cairn start\` processes from \`cairn devnet init\` (${settings.scheme}, JSON-RPC from port ${settings.basePort})`,
    )
    figure = await run(started.urls, started.cpuMs)
    // BENCH_BFT_METRICS=DIR: each node's /metrics after the run, as DIR/node-N.prom (what crossed the wire).
    if (env.BENCH_BFT_METRICS) {
      for (const [i, u] of started.urls.entries()) {
        const page = await (await fetch(`${u}/metrics`)).text()
        writeFileSync(join(env.BENCH_BFT_METRICS, `node-${i + 1}.prom`), page)
      }
    }
  } else {
    const senders = deriveAccounts(DEV_MNEMONIC, settings.senders).map((a) => a.address as Hex)
    const genesis = writeSetup(senders)
    const first = await start(0, genesis, [])
    nodes.push(first)
    const admin = new RpcClient(first.url, 1)
    const info = await admin.call<{ listenAddrs: string[] }>('admin_nodeInfo', [])
    admin.close()
    const boot = info.listenAddrs.filter((a) => a.includes('127.0.0.1'))
    for (let i = 1; i < VALIDATORS; i++) nodes.push(await start(i, genesis, boot))
    log(`${VALIDATORS} validators up in this process (libp2p on loopback, block time ${settings.blockMs} ms)`)
    figure = await run(
      nodes.map((n) => n.url),
      () => {
        const u = process.cpuUsage()
        return (u.user + u.system) / 1000
      },
    )
  }
} finally {
  for (const n of nodes) await n.close()
  await stopProcesses?.()
  rmSync(dir, { recursive: true, force: true })
}
if (env.BENCH_JSON === '1') console.log(`RESULT ${JSON.stringify(figure)}`)
else {
  console.log(JSON.stringify(figure, null, 2))
  console.log(`node ${process.version}, ${cpus().length} cores ${cpus()[0]?.model ?? ''}`)
}
process.exit(0)
