// What a test suite feels (issue #66): the latency of one trace and of one cold fork read, Cairn
// against Anvil in the same run, one request at a time (a test awaits each answer).
//   - trace: debug_traceTransaction of an ERC-20 transfer (callTracer, the struct logger,
//     prestateTracer) and trace_transaction, on `cairn start --dev` and on `anvil`: the same
//     transaction again and again (the first of its block; the third of a block of three, the
//     block's prefix replayed), and LATENCY_N different transfers each traced once;
//   - cold fork read: both forks of one Anvil remote pinned at one block, each read of an account
//     or slot the fork has not fetched yet (eth_getBalance, eth_getStorageAt, eth_call balanceOf),
//     then the same reads warm.
// Medians of LATENCY_N requests (default 40), requests of both sides interleaved; ratio cairn/anvil;
// and the CPU time each server used per request (from /proc: robust on a loaded machine).
// LATENCY_PART=trace or fork runs one half; CAIRN_BIN=path runs another Cairn entry (a bundle).
//
//   node --import tsx packages/node/bench/trace-fork-latency.ts        (ANVIL_BIN to choose Anvil)
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { cpuMsOf, envNumber, findAnvil, freePort } from './targets.ts'

const N = envNumber('LATENCY_N', 40)
/** `trace`, `fork` or both (default). */
const PART = process.env.LATENCY_PART ?? 'all'
const A0 = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'
const A1 = '0x70997970c51812dc3a010c7d01b50e0d17dc79c8'

interface Started {
  url: string
  child: ChildProcess
}

let id = 0
async function call<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

async function start(cmd: string, args: (port: number) => string[]): Promise<Started> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(cmd, args(port), { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const t0 = performance.now()
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited (${child.exitCode}): ${stderr}`)
    try {
      await call(url, 'eth_chainId')
      return { url, child }
    } catch {}
    if (performance.now() - t0 > 90_000) throw new Error(`${cmd} did not answer within 90 s: ${stderr}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function stop(s: Started): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r))
  s.child.kill('SIGTERM')
  await exited
}

async function mined(url: string, hash: string): Promise<Record<string, string>> {
  for (;;) {
    const r = await call<Record<string, string> | null>(url, 'eth_getTransactionReceipt', [hash])
    if (r) return r
    await new Promise((res) => setTimeout(res, 10))
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

const root = fileURLToPath(new URL('../../../', import.meta.url))
const erc20 = JSON.parse(readFileSync(`${root}node_modules/@uniswap/v2-core/build/ERC20.json`, 'utf8')) as {
  evm?: { bytecode?: { object?: string } }
  bytecode?: string
}
const ERC20_CODE = `0x${(erc20.evm?.bytecode?.object ?? erc20.bytecode ?? '').replace(/^0x/, '')}`
/** ERC20(uint256 totalSupply): 10^24 to the deployer. */
const ERC20_DEPLOY = `${ERC20_CODE}${(10n ** 24n).toString(16).padStart(64, '0')}`
const transferData = (to: string, amount: bigint) =>
  `0xa9059cbb${to.slice(2).padStart(64, '0')}${amount.toString(16).padStart(64, '0')}`
const balanceOfData = (who: string) => `0x70a08231${who.slice(2).padStart(64, '0')}`

/** A token and two blocks: one transfer alone, then three transfers in one block (the last one traced). */
async function tradeOn(url: string): Promise<{ token: string; alone: string; third: string }> {
  const token = (await mined(url, await call(url, 'eth_sendTransaction', [{ from: A0, data: ERC20_DEPLOY }])))
    .contractAddress as string
  const send = (i: number) =>
    call<string>(url, 'eth_sendTransaction', [{ from: A0, to: token, data: transferData(A1, BigInt(i + 1)) }])
  const alone = await send(0)
  await mined(url, alone)
  await call(url, 'evm_setAutomine', [false])
  const hashes = [await send(1), await send(2), await send(3)]
  await call(url, 'evm_mine', [])
  await call(url, 'evm_setAutomine', [true])
  const receipts = await Promise.all(hashes.map((h) => mined(url, h)))
  if (new Set(receipts.map((r) => r.blockNumber)).size !== 1)
    throw new Error('the three transfers are not in one block')
  return { token, alone, third: hashes[2] as string }
}

type Row = [string, number, number, number | undefined, number | undefined]
const rows: Row[] = []
function report(name: string, cairn: number[], anvil: number[], cpu: [number?, number?] = []): void {
  rows.push([name, median(cairn), median(anvil), cpu[0], cpu[1]])
}

/** The servers of the side being compared: [cairn, anvil]. */
let servers: readonly [Started, Started]
const cpu = (s: 0 | 1) => cpuMsOf(servers[s].child.pid)

/** `ask(side, i)` N times per side, interleaved; also each server's CPU time per request. */
async function compare(name: string, ask: (side: 0 | 1, i: number) => Promise<unknown>): Promise<void> {
  const ms: [number[], number[]] = [[], []]
  const used: [number, number] = [0, 0]
  for (let i = 0; i < N; i++) {
    for (const s of [0, 1] as const) {
      const c0 = cpu(s) ?? 0
      ms[s].push(await timed(() => ask(s, i)))
      used[s] += (cpu(s) ?? 0) - c0
    }
  }
  report(name, ms[0], ms[1], [used[0] / N, used[1] / N])
}

const anvilBin = findAnvil(process.env.ANVIL_BIN)
if (!anvilBin) {
  console.log('anvil: not found (set ANVIL_BIN, or `cd /tmp && npm i @foundry-rs/anvil@1.7.1`)')
  process.exit(2)
}
// CAIRN_BIN: another entry to compare (a bundle built elsewhere, e.g. packages/node/dist/start.js of an older build).
const cairnBin = process.env.CAIRN_BIN ?? fileURLToPath(new URL('../bin/cairn.js', import.meta.url))
const cairnArgs = (extra: string[]) => (port: number) => [
  cairnBin,
  'start',
  '--dev',
  '--ephemeral',
  '--log.level',
  'warn',
  '--http.port',
  String(port),
  ...extra,
]
const anvilArgs = (extra: string[]) => (port: number) => ['--port', String(port), '--silent', ...extra]

console.log(`node ${process.version}; medians of ${N} requests, one at a time, Cairn and Anvil interleaved`)

// ---- traces
if (PART !== 'fork') {
  const nodes = [await start(process.execPath, cairnArgs([])), await start(anvilBin, anvilArgs([]))] as const
  servers = nodes
  try {
    const trades = [await tradeOn(nodes[0].url), await tradeOn(nodes[1].url)] as const
    // N more transfers, each in its own block, each traced once.
    const distinct = await Promise.all(
      nodes.map(async (n, s) => {
        const out: string[] = []
        for (let i = 0; i < N; i++) {
          const h = await call<string>(n.url, 'eth_sendTransaction', [
            { from: A0, to: trades[s]?.token, data: transferData(A1, BigInt(i + 10)) },
          ])
          await mined(n.url, h)
          out.push(h)
        }
        return out
      }),
    )
    await compare('debug_traceTransaction callTracer (each tx once)', (s, i) =>
      call(nodes[s].url, 'debug_traceTransaction', [distinct[s]?.[i], { tracer: 'callTracer' }]),
    )
    for (const which of ['alone', 'third'] as const) {
      for (const [label, config] of [
        ['callTracer', { tracer: 'callTracer' }],
        ['struct logger', {}],
        ['prestateTracer', { tracer: 'prestateTracer' }],
      ] as const) {
        await compare(`debug_traceTransaction ${label} (${which === 'alone' ? '1st of 1' : '3rd of 3'})`, (s) =>
          call(nodes[s].url, 'debug_traceTransaction', [trades[s][which], config]),
        )
      }
      await compare(`trace_transaction (${which === 'alone' ? '1st of 1' : '3rd of 3'})`, (s) =>
        call(nodes[s].url, 'trace_transaction', [trades[s][which]]),
      )
    }
  } finally {
    await Promise.all(nodes.map(stop))
  }
}

// ---- fork reads
if (PART !== 'trace') {
  const remote = await start(anvilBin, anvilArgs([]))
  try {
    const holders = Array.from(
      { length: 2 * N + 2 },
      (_, i) => `0x${'ab'.repeat(12)}${i.toString(16).padStart(16, '0')}`,
    )
    for (const [i, a] of holders.entries()) {
      await call(remote.url, 'anvil_setBalance', [a, `0x${(BigInt(i + 1) * 10n ** 15n).toString(16)}`])
    }
    const { token } = await tradeOn(remote.url)
    // Token balances of every holder (the slots a cold balanceOf reads).
    await call(remote.url, 'evm_setAutomine', [false])
    for (const [i, a] of holders.entries()) {
      await call(remote.url, 'eth_sendTransaction', [{ from: A0, to: token, data: transferData(a, BigInt(i + 1)) }])
    }
    await call(remote.url, 'evm_mine', [])
    await call(remote.url, 'evm_setAutomine', [true])
    const pinned = BigInt(await call<string>(remote.url, 'eth_blockNumber')).toString()
    const fork = ['--fork-url', remote.url, '--fork-block-number', pinned]
    const forks = [await start(process.execPath, cairnArgs(fork)), await start(anvilBin, anvilArgs(fork))] as const
    servers = forks
    try {
      // Each side reads holders it has not read (cold), then the same again (warm).
      let next: [number, number] = [0, 0]
      const cold = (s: 0 | 1) => holders[next[s]++] as string
      await compare('fork: cold eth_getBalance', (s) => call(forks[s].url, 'eth_getBalance', [cold(s), 'latest']))
      await compare('fork: cold eth_call balanceOf (token warm)', (s) =>
        call(forks[s].url, 'eth_call', [{ to: token, data: balanceOfData(cold(s)) }, 'latest']),
      )
      next = [0, 0]
      await compare('fork: warm eth_getBalance', (s) => call(forks[s].url, 'eth_getBalance', [cold(s), 'latest']))
    } finally {
      await Promise.all(forks.map(stop))
    }
  } finally {
    await stop(remote)
  }
}

const w = Math.max(...rows.map((r) => r[0].length))
const f = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(2)).padStart(8)
console.log(`${'what'.padEnd(w)}  cairn ms  anvil ms  cairn/anvil   CPU ms/request: cairn  anvil`)
for (const [name, c, a, cc, ac] of rows) {
  console.log(`${name.padEnd(w)}  ${f(c)}  ${f(a)}  ${(c / a).toFixed(2).padStart(10)}x  ${f(cc)}${f(ac)}`)
}
