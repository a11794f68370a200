// The p2p benchmark (issue 17) between real `cairn start` processes on loopback:
//
// (a) Sync from one peer: a dev producer (`--dev --datadir P --p2p.enabled`, automine off) makes
//     BENCH_P2P_SYNC_BLOCKS blocks of BENCH_P2P_SYNC_TXS transfers each (pre-signed, one JSON-RPC
//     batch of eth_sendRawTransaction then evm_mine per block). The producer is stopped, the chain
//     exported (`cairn export`) and imported into a fresh datadir (`cairn import --dev`): the node's
//     own import rate, the time `cairn import` reports for its import loop (its process start and
//     TypeScript compile are seconds on a loaded machine; its CPU is spawn to exit minus the same
//     for a file of the first block alone). The producer is started again on P and a fresh follower
//     (`--dev --follow --datadir F --p2p.bootnodes <producer>`) range-syncs the same blocks: from its
//     JSON-RPC up (process start done) to its eth_blockNumber at the producer's head (polled every
//     200 ms, every 10 ms over the last 5% of the blocks):
//     dial, status exchange, range sync. Both write LevelDB. Printed as blocks/s and transactions/s
//     and their ratio, with the CPU per block of each (the import's from the reaped child's times,
//     the follower's from /proc while it synced), steadier than the rates on a loaded machine.
// (b) Block propagation across 4 nodes: a fresh producer and three followers in a line of bootnodes
//     (f1 → producer, f2 → f1, f3 → f2). BENCH_P2P_TOPOLOGY=line (default): discovery off
//     (CAIRN_P2P_DHT=false), so f2 gets a block through f1 and f3 through f1 and f2 (1, 2, 3 hops);
//     mesh: discovery on, which links all four within seconds. The peer counts are printed.
//     Each node's newHeads is subscribed over WebSocket from this process; the latency of block n
//     at a follower is the arrival of its newHeads notification minus the arrival of the
//     producer's (the producer's seal + its notification path, against the follower's import + the
//     same path). BENCH_P2P_PROP_BLOCKS blocks of BENCH_P2P_PROP_TXS transfers (sent to the producer,
//     announced to the followers by gossip) after 5 warm-up blocks; the next block is made once
//     every follower has the last. p50/p99/max.
// (c) Bytes per block on the wire: the nodes' `cairn_p2p_bytes_total` (compressed payload by topic):
//     the block message as published (the blocks topic's `out`), the copies the followers received
//     and validated (its `in`, summed), and the blocks_by_range bytes the follower read in (a).
//
// `node --import tsx packages/node/bench/p2p.ts` (or `BENCH_P2P=1 npm run bench`). Settings:
// BENCH_P2P_SYNC_BLOCKS (2000; 0 skips), BENCH_P2P_SYNC_TXS (10), BENCH_P2P_PROP_BLOCKS (100; 0 skips),
// BENCH_P2P_PROP_TXS (20), BENCH_P2P_TOPOLOGY (line | mesh), BENCH_P2P_FOLLOWER_NODE_ARGS (the syncing
// follower's Node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_P2P_IMPORT_NODE_ARGS (the same for
// `cairn import` of the chain), BENCH_P2P_SERVER_NODE_ARGS (the same for the producer serving the sync). BENCH_JSON=1 prints the figures as a `RESULT {json}` line (run.ts reads it).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { deriveAccounts, ecdsaSign, keccak256 } from '@cairn/crypto'
import { bytesToHex, hexToBytes } from '@cairn/utils'
import { type Hex, serializeTransaction, webSocket } from 'viem'
import { type CairnProcess, call, startCairn } from '../test/cli/cluster.ts'
import { CAIRN_BIN, cleanEnv, REPO_ROOT } from '../test/cli/run-cli.ts'
import { RpcClient } from './rpc-client.ts'
import { cpuMsOf, envNumber } from './targets.ts'
import { DEV_MNEMONIC } from './transfers.ts'

const env = process.env
const num = envNumber
const settings = {
  syncBlocks: num('BENCH_P2P_SYNC_BLOCKS', 2000),
  syncTxs: num('BENCH_P2P_SYNC_TXS', 10),
  propBlocks: num('BENCH_P2P_PROP_BLOCKS', 100),
  propTxs: num('BENCH_P2P_PROP_TXS', 20),
  topology: env.BENCH_P2P_TOPOLOGY === 'mesh' ? 'mesh' : 'line',
}
const WARMUP = 5
const log = (msg: string) => process.stderr.write(`[p2p] ${msg}\n`)

export interface P2pSyncFigure {
  blocks: number
  txsPerBlock: number
  /** `cairn import`'s own time for the exported chain (its import loop, as it reports it). */
  importSeconds: number
  importBlocksPerS: number
  importTxsPerS: number
  /** A fresh `--follow` process: its JSON-RPC up to the producer's head (dial, status, range sync). */
  syncSeconds: number
  syncBlocksPerS: number
  syncTxsPerS: number
  /** sync rate / import rate (target ≥ 1). */
  ratio: number
  /** CPU per block: the import process' (blocks 2..N), the follower's while it synced. */
  importCpuMsPerBlock: number
  syncCpuMsPerBlock: number
  /** The producer's CPU per block while it served the sync (on the same two cores). */
  serveCpuMsPerBlock: number
  /** blocks_by_range payload the follower read, per block (snappy-compressed). */
  rangeBytesPerBlock: number
}

export interface P2pPropagationFigure {
  nodes: number
  /** line: bootnodes in a line, discovery off; mesh: discovery on. */
  topology: string
  /** f1, f2, f3 (in a line: 1, 2 and 3 hops from the producer). */
  perFollower: { p50Ms: number; p99Ms: number }[]
  blocks: number
  txsPerBlock: number
  samples: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** net_peerCount of producer, f1, f2, f3 at the end. */
  peers: number[]
  /** The block message (snappy-compressed), from the producer's publishes, per block. */
  gossipBytesPerBlock: number
  /** Blocks-topic payload received and validated by the followers together, per block. */
  gossipInBytesPerBlock: number
  /** The block's RLP size, per block (for comparison). */
  rlpBytesPerBlock: number
}

export interface P2pFigure {
  sync?: P2pSyncFigure
  propagation?: P2pPropagationFigure
  load: number[]
}

/** Pre-signed 1-wei transfers from the dev accounts, `perBlock` per block, `blocks` blocks. */
function signTransfers(chainId: number, blocks: number, perBlock: number): Hex[][] {
  const accounts = deriveAccounts(DEV_MNEMONIC, 10)
  const nonces = accounts.map(() => 0)
  const out: Hex[][] = []
  let i = 0
  for (let b = 0; b < blocks; b++) {
    const batch: Hex[] = []
    for (let t = 0; t < perBlock; t++, i++) {
      const j = i % accounts.length
      const a = accounts[j] as (typeof accounts)[number]
      const nonce = nonces[j] as number
      nonces[j] = nonce + 1
      const tx = {
        type: 'eip1559',
        chainId,
        nonce,
        to: `0x${(0x100000 + i).toString(16).padStart(40, 'c')}` as Hex,
        value: 1n,
        gas: 21000n,
        maxFeePerGas: 10n ** 13n,
        maxPriorityFeePerGas: 10n ** 9n,
      } as const
      const sig = ecdsaSign(keccak256(hexToBytes(serializeTransaction(tx))), a.privateKey)
      batch.push(serializeTransaction(tx, { r: bytesToHex(sig.r), s: bytesToHex(sig.s), yParity: sig.recovery }))
    }
    out.push(batch)
  }
  return out
}

/** Sends one block's transactions and mines them into one block; checks the count. */
async function makeBlock(client: RpcClient, raws: Hex[]): Promise<void> {
  if (raws.length > 0) {
    const res = await client.batch(raws.map((r) => ['eth_sendRawTransaction', [r]]))
    const bad = res.find((r) => r.error)
    if (bad) throw new Error(`eth_sendRawTransaction: ${JSON.stringify(bad.error)}`)
  }
  await client.call('evm_mine')
}

/** Sum of a metric's series on a node whose labels satisfy `pick`. */
async function metricSum(url: string, name: string, pick: (labels: string) => boolean): Promise<number> {
  const text = await (await fetch(`${url.replace(/\/$/, '')}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    if (!pick(line.slice(name.length, line.lastIndexOf('}') + 1))) continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

async function waitUntil(cond: () => Promise<boolean>, what: string, ms: number): Promise<void> {
  const until = Date.now() + ms
  while (!(await cond().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const blockNumber = async (url: string) => Number(await call<Hex>(url, 'eth_blockNumber'))
const round1 = (x: number) => Math.round(x * 10) / 10

async function benchSync(dir: string): Promise<P2pSyncFigure> {
  const { syncBlocks: blocks, syncTxs: txs } = settings
  const pdir = join(dir, 'producer')
  let producer: CairnProcess | undefined = await startCairn(['--dev', '--datadir', pdir, '--p2p.enabled'])
  const procs: CairnProcess[] = []
  try {
    const client = new RpcClient(producer.url, 1)
    const chainId = Number(await client.call<Hex>('eth_chainId'))
    log(`sync: signing ${blocks * txs} transfers`)
    const raws = signTransfers(chainId, blocks, txs)
    await client.call('evm_setAutomine', [false])
    log(`sync: producing ${blocks} blocks of ${txs} transfers`)
    const t0 = performance.now()
    for (const batch of raws) await makeBlock(client, batch)
    client.close()
    log(`sync: produced in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const last = await call<{ number: Hex; transactions: string[] }>(producer.url, 'eth_getBlockByNumber', [
      'latest',
      false,
    ])
    if (Number(last.number) !== blocks || last.transactions.length !== txs)
      throw new Error(`producer head ${Number(last.number)} with ${last.transactions.length} txs`)
    await producer.stop()
    producer = undefined

    const file = join(dir, 'chain.rlp')
    const one = join(dir, 'first.rlp')
    const cli = (args: string[]) => {
      const r = spawnSync(process.execPath, [CAIRN_BIN, ...args], { cwd: REPO_ROOT, env: cleanEnv(), encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`cairn ${args.join(' ')}: exit ${r.status}\n${r.stderr}`)
      return r.stdout
    }
    cli(['export', file, '--datadir', pdir])
    cli(['export', one, '--datadir', pdir, '--from', '1', '--to', '1'])
    // `cairn import`'s process start is seconds on a loaded machine: the import of the one-block
    // file is subtracted (both spawn to exit), which leaves blocks 2..N.
    log('sync: cairn import of the exported chain (and of its first block alone)')
    // Wall and CPU time of a `cairn import` (its CPU from the shell's reaped-children times:
    // /proc/<shell>/stat cutime + cstime, in clock ticks of 10 ms).
    const timed = (args: string[], nodeArgs: string[] = []) => {
      const t = performance.now()
      const r = spawnSync(
        'sh',
        ['-c', `"$0" "$@" && cat /proc/$$/stat >&2`, process.execPath, ...nodeArgs, CAIRN_BIN, ...args],
        {
          cwd: REPO_ROOT,
          env: cleanEnv(),
          encoding: 'utf8',
        },
      )
      const s = (performance.now() - t) / 1000
      if (r.status !== 0) throw new Error(`cairn ${args.join(' ')}: exit ${r.status}\n${r.stderr}`)
      const stat = r.stderr.trim().split('\n').pop() ?? ''
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const cpuS = (Number(fields[13]) + Number(fields[14])) / 100 // cutime, cstime
      return { out: r.stdout, s, cpuS }
    }
    const base = timed(['import', one, '--dev', '--datadir', join(dir, 'imported-one')])
    const full = timed(
      ['import', file, '--dev', '--datadir', join(dir, 'imported')],
      (process.env.BENCH_P2P_IMPORT_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
    )
    if (!full.out.includes(`imported ${blocks} block`)) throw new Error(`import: ${full.out}`)
    // the import's own time as it reports it (no process start, no TypeScript compile); the
    // spawn-to-exit difference only where an older build does not say it
    const own = / in ([\d.]+) s/.exec(full.out)?.[1]
    const importSeconds = own !== undefined ? Number(own) : full.s - base.s
    const importCpuSeconds = full.cpuS - base.cpuS

    // BENCH_P2P_SERVER_NODE_ARGS: the Node flags of the producer serving the sync
    producer = await startCairn(
      ['--dev', '--datadir', pdir, '--p2p.enabled'],
      30_000,
      {},
      (process.env.BENCH_P2P_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
    )
    log('sync: a fresh --follow process syncing from the producer')
    // BENCH_P2P_FOLLOWER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`): the syncing follower's Node flags
    const follower = await startCairn(
      ['--dev', '--follow', '--datadir', join(dir, 'follower'), '--p2p.bootnodes', producer.addr],
      30_000,
      {},
      (process.env.BENCH_P2P_FOLLOWER_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
    )
    procs.push(follower)
    // From its JSON-RPC up (process start done, as the import's is subtracted) to the head:
    // dial, status, range sync.
    const t = performance.now()
    const cpu0 = cpuMsOf(follower.pid)
    const servedCpu0 = cpuMsOf(producer.pid)
    // Polled every 200 ms until the last 5% of the blocks, then every 10 ms: a request every 20 ms
    // throughout was ~1.5% of the syncing follower's CPU (its HTTP parsing in the profile), the
    // observer loading what it measures; the end is still seen within 10 ms.
    const deadline = Date.now() + 1_800_000
    for (;;) {
      const height = await blockNumber(follower.url).catch(() => 0)
      if (height >= blocks) break
      if (Date.now() > deadline) throw new Error('timed out waiting for the follower at the head')
      await new Promise((r) => setTimeout(r, height < blocks * 0.95 ? 200 : 10))
    }
    const syncSeconds = (performance.now() - t) / 1000
    // BENCH_P2P_FOLLOWER_LOG=FILE: the syncing follower's JSON log, written after the sync
    if (process.env.BENCH_P2P_FOLLOWER_LOG) writeFileSync(process.env.BENCH_P2P_FOLLOWER_LOG, follower.out())
    const syncCpuSeconds = ((cpuMsOf(follower.pid) ?? Number.NaN) - (cpu0 ?? Number.NaN)) / 1000
    const servedCpuSeconds = ((cpuMsOf(producer.pid) ?? Number.NaN) - (servedCpu0 ?? Number.NaN)) / 1000
    const rangeBytes = await metricSum(
      follower.url,
      'cairn_p2p_bytes_total',
      (l) => l.includes('blocks_by_range') && l.includes('direction="in"'),
    )
    const importBlocksPerS = (blocks - 1) / importSeconds
    const syncBlocksPerS = blocks / syncSeconds
    return {
      blocks,
      txsPerBlock: txs,
      importSeconds: round1(importSeconds),
      importBlocksPerS: Math.round(importBlocksPerS),
      importTxsPerS: Math.round(importBlocksPerS * txs),
      syncSeconds: round1(syncSeconds),
      syncBlocksPerS: Math.round(syncBlocksPerS),
      syncTxsPerS: Math.round(syncBlocksPerS * txs),
      ratio: Math.round((syncBlocksPerS / importBlocksPerS) * 100) / 100,
      importCpuMsPerBlock: round1((importCpuSeconds * 1000) / (blocks - 1)),
      syncCpuMsPerBlock: round1((syncCpuSeconds * 1000) / blocks),
      serveCpuMsPerBlock: round1((servedCpuSeconds * 1000) / blocks),
      rangeBytesPerBlock: Math.round(rangeBytes / blocks),
    }
  } finally {
    await Promise.all([producer, ...procs].map((p) => p?.stop()))
  }
}

async function benchPropagation(): Promise<P2pPropagationFigure> {
  const { propBlocks: blocks, propTxs: txs } = settings
  // line: discovery off (CAIRN_P2P_DHT=false), so each node knows only its bootnode and its
  // dialers: a block reaches f3 through f1 and f2. mesh: discovery on (the default), which links
  // every node to every other within seconds.
  const env: Record<string, string> = settings.topology === 'line' ? { CAIRN_P2P_DHT: 'false' } : {}
  const producer = await startCairn(['--dev', '--ephemeral', '--p2p.enabled'], 30_000, env)
  const nodes: CairnProcess[] = [producer]
  const closers: (() => void)[] = []
  try {
    // Bootnodes in a line: f1 → producer, f2 → f1, f3 → f2.
    for (let i = 0; i < 3; i++) {
      const prev = nodes[nodes.length - 1] as CairnProcess
      nodes.push(await startCairn(['--dev', '--follow', '--ephemeral', '--p2p.bootnodes', prev.addr], 30_000, env))
    }
    const seen = nodes.map(() => new Map<number, number>())
    for (const [i, n] of nodes.entries()) {
      const transport = webSocket(n.url.replace(/^http/, 'ws'))({})
      if (!transport.value) throw new Error('no WebSocket transport')
      const { unsubscribe } = await transport.value.subscribe({
        params: ['newHeads'],
        onData: (data: { result?: { number?: Hex } }) => {
          const at = performance.now()
          const number = data.result?.number
          if (number !== undefined) seen[i]?.set(Number(number), at)
        },
        onError: () => undefined,
      })
      closers.push(() => {
        void unsubscribe().catch(() => undefined)
        void transport.value?.getRpcClient().then((c) => c.close())
      })
    }
    const client = new RpcClient(producer.url, 1)
    const chainId = Number(await client.call<Hex>('eth_chainId'))
    const raws = signTransfers(chainId, WARMUP + blocks, txs)
    await client.call('evm_setAutomine', [false])
    let rlp = 0
    let gossip0 = { in: 0, out: 0 }
    // `cairn_p2p_bytes_total{topic=…/blocks/1}`: `out` counts a node's own publishes (once per
    // message, not per recipient; gossipsub's relaying of others' messages is not counted), `in`
    // each copy a node received and validated (duplicates gossipsub drops first are not counted).
    const gossipBytes = async () => {
      const sum = { in: 0, out: 0 }
      for (const n of nodes) {
        for (const dir of ['in', 'out'] as const)
          sum[dir] += await metricSum(
            n.url,
            'cairn_p2p_bytes_total',
            (l) => l.includes('/blocks/1"') && l.includes(`direction="${dir}"`),
          )
      }
      return sum
    }
    const latencies: number[] = []
    const perNode: number[][] = [[], [], []]
    for (let b = 1; b <= WARMUP + blocks; b++) {
      if (b === WARMUP + 1) gossip0 = await gossipBytes()
      await makeBlock(client, raws[b - 1] as Hex[])
      // warm-up blocks may reach a follower by range sync while the gossip mesh forms: a long wait
      await waitUntil(
        async () => seen.every((s) => s.has(b)),
        `block ${b} on every node`,
        b <= WARMUP ? 60_000 : 20_000,
      )
      if (b <= WARMUP) continue
      const t0 = seen[0]?.get(b) as number
      for (const [i, s] of seen.slice(1).entries()) {
        const ms = (s.get(b) as number) - t0
        latencies.push(ms)
        perNode[i]?.push(ms)
      }
      const block = await call<{ size: Hex }>(producer.url, 'eth_getBlockByNumber', [`0x${b.toString(16)}`, false])
      rlp += Number(block.size)
    }
    client.close()
    const gossip = await gossipBytes()
    const peers: number[] = []
    for (const n of nodes) peers.push(Number(await call<Hex>(n.url, 'net_peerCount')))
    const quantile = (xs: number[], p: number) => {
      const sorted = [...xs].sort((a, b) => a - b)
      return round1(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0)
    }
    const q = (p: number) => quantile(latencies, p)
    return {
      nodes: nodes.length,
      topology: settings.topology,
      perFollower: perNode.map((xs) => ({ p50Ms: quantile(xs, 0.5), p99Ms: quantile(xs, 0.99) })),
      blocks,
      txsPerBlock: txs,
      samples: latencies.length,
      p50Ms: q(0.5),
      p99Ms: q(0.99),
      maxMs: q(1),
      peers,
      gossipBytesPerBlock: Math.round((gossip.out - gossip0.out) / blocks),
      gossipInBytesPerBlock: Math.round((gossip.in - gossip0.in) / blocks),
      rlpBytesPerBlock: Math.round(rlp / blocks),
    }
  } finally {
    for (const c of closers) c()
    await Promise.all(nodes.map((n) => n.stop()))
  }
}

const dir = mkdtempSync(join(tmpdir(), 'cairn-p2p-bench-'))
const figure: P2pFigure = { load: [] }
try {
  if (settings.propBlocks > 0) {
    log(`propagation: 4 processes, ${settings.propBlocks} blocks of ${settings.propTxs} transfers`)
    figure.propagation = await benchPropagation()
    log(JSON.stringify(figure.propagation))
  }
  if (settings.syncBlocks > 0) {
    figure.sync = await benchSync(dir)
    log(JSON.stringify(figure.sync))
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
figure.load = loadavg().map((l) => Math.round(l * 100) / 100)
const p = figure.propagation
if (p) {
  console.log(
    `block propagation, ${p.nodes} cairn processes (${p.topology}; peers at the end ${p.peers.join('/')}), ${p.blocks} blocks of ${p.txsPerBlock} transfers: p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms (target < 200), max ${p.maxMs} ms (${p.samples} samples; newHeads over WebSocket, producer's to each follower's)`,
  )
  console.log(
    `  per follower (f1, f2, f3${p.topology === 'line' ? ': 1, 2, 3 hops' : ''}): ${p.perFollower.map((f) => `p50 ${f.p50Ms} / p99 ${f.p99Ms} ms`).join('; ')}`,
  )
  console.log(
    `wire: the block message ${p.gossipBytesPerBlock} bytes snappy-compressed (RLP ${p.rlpBytesPerBlock}); the three followers received ${p.gossipInBytesPerBlock} bytes of it per block together (copies validated; gossipsub framing, Noise and Yamux not counted)`,
  )
}
const s = figure.sync
if (s) {
  console.log(
    `cairn import (own import rate): ${s.blocks} blocks of ${s.txsPerBlock} transfers in ${s.importSeconds} s = ${s.importBlocksPerS} blocks/s, ${s.importTxsPerS} tx/s`,
  )
  console.log(
    `sync from one peer (--follow):  ${s.blocks} blocks in ${s.syncSeconds} s = ${s.syncBlocksPerS} blocks/s, ${s.syncTxsPerS} tx/s; sync/import ${s.ratio} (target ≥ 1); ${s.rangeBytesPerBlock} bytes/block of blocks_by_range`,
  )
  console.log(
    `CPU per block: import ${s.importCpuMsPerBlock} ms, the syncing follower ${s.syncCpuMsPerBlock} ms, the producer serving it ${s.serveCpuMsPerBlock} ms`,
  )
}
console.log(`load average after the run ${figure.load.join(' ')}`)
if (env.BENCH_JSON === '1') console.log(`RESULT ${JSON.stringify(figure)}`)
