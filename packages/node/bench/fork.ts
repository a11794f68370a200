// Fork mode against Anvil's (issue #55): one remote, both forks pinned at the same block of it.
// The remote (FORK_REMOTE=anvil, the default, or cairn: `cairn start --dev --ephemeral`) holds
// ACCOUNTS funded accounts; each fork is then asked:
//   - start: spawn to the first answered eth_chainId (the fork's setup included);
//   - first read: the first eth_getBalance of an account (a remote fetch);
//   - cold reads/s: eth_getBalance of every account once, CONCURRENCY at a time (each a fetch);
//   - warm reads/s: the same reads again (from the fork's cache).
// Each figure is the median of RUNS whole runs (a fresh remote and fresh forks each time).
//
//   ANVIL_BIN=/path/to/anvil .ci/with-node 24 node --import tsx packages/node/bench/fork.ts
//   FORK_ACCOUNTS=500 FORK_CONCURRENCY=16 FORK_RUNS=3 FORK_REMOTE=anvil (defaults)
// Cairn's fork reads the remote with eth_getProof (it checks every proof against the fork block's
// state root and adopts the trie nodes); Anvil's reads eth_getBalance and friends. An Anvil remote
// answers eth_getProof ~6× slower than eth_getBalance (it has no state trie to read a proof from), a
// trie-based remote (Cairn, geth, reth) does not: FORK_REMOTE=cairn measures both forks against one.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { envNumber, findAnvil, freePort } from './targets.ts'

const ACCOUNTS = envNumber('FORK_ACCOUNTS', 500)
const CONCURRENCY = envNumber('FORK_CONCURRENCY', 16)
const RUNS = envNumber('FORK_RUNS', 3)
const REMOTE = process.env.FORK_REMOTE === 'cairn' ? 'cairn' : 'anvil'

interface Started {
  url: string
  child: ChildProcess
  startMs: number
}

async function call<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (body.error) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

async function start(cmd: string, args: (port: number) => string[]): Promise<Started> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const t0 = performance.now()
  const child = spawn(cmd, args(port), { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${cmd} exited (${child.exitCode}): ${stderr}`)
    try {
      await call(url, 'eth_chainId')
      return { url, child, startMs: performance.now() - t0 }
    } catch {}
    if (performance.now() - t0 > 60_000) throw new Error(`${cmd} did not answer within 60 s: ${stderr}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

async function stop(s: Started): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r))
  s.child.kill('SIGTERM')
  await exited
}

const address = (i: number) => `0x${'f0'.repeat(12)}${i.toString(16).padStart(16, '0')}`

/** Reads every account's balance, `concurrency` at a time; returns reads per second. */
async function readAll(url: string, block: string, concurrency: number): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ACCOUNTS; i = next++) {
        const b = BigInt(await call<string>(url, 'eth_getBalance', [address(i), block]))
        if (b !== BigInt(i + 1) * 10n ** 15n) throw new Error(`account ${i}: balance ${b}`)
      }
    }),
  )
  return ACCOUNTS / ((performance.now() - t0) / 1000)
}

interface Figures {
  startMs: number
  firstReadMs: number
  coldPerS: number
  warmPerS: number
}

async function measure(fork: Started): Promise<Figures> {
  const t0 = performance.now()
  await call(fork.url, 'eth_getBalance', [address(ACCOUNTS), 'latest'])
  const firstReadMs = performance.now() - t0
  const coldPerS = await readAll(fork.url, 'latest', CONCURRENCY)
  const warmPerS = await readAll(fork.url, 'latest', CONCURRENCY)
  return { startMs: fork.startMs, firstReadMs, coldPerS, warmPerS }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

const anvilBin = findAnvil(process.env.ANVIL_BIN)
if (!anvilBin) {
  console.log('anvil: not found (set ANVIL_BIN, or `cd /tmp && npm i @foundry-rs/anvil@1.7.1`): the remote is Anvil')
  process.exit(2)
}
const cairnBin = fileURLToPath(new URL('../bin/cairn.js', import.meta.url))
console.log(
  `node ${process.version}; remote: ${REMOTE === 'cairn' ? 'Cairn' : 'Anvil'} with ${ACCOUNTS} funded accounts; reads ${CONCURRENCY} at a time; median of ${RUNS} runs`,
)
const results: { cairn: Figures[]; anvil: Figures[] } = { cairn: [], anvil: [] }
for (let run = 0; run < RUNS; run++) {
  const remote =
    REMOTE === 'cairn'
      ? await start(process.execPath, (port) => [
          cairnBin,
          'start',
          '--dev',
          '--ephemeral',
          '--log.level',
          'warn',
          '--http.port',
          String(port),
        ])
      : await start(anvilBin, (port) => ['--port', String(port), '--silent'])
  try {
    for (let i = 0; i <= ACCOUNTS; i++) {
      await call(remote.url, 'anvil_setBalance', [address(i), `0x${(BigInt(i + 1) * 10n ** 15n).toString(16)}`])
    }
    await call(remote.url, 'evm_mine')
    const pinned = BigInt(await call<string>(remote.url, 'eth_blockNumber')).toString()
    const forks: [keyof typeof results, () => Promise<Started>][] = [
      [
        'cairn',
        () =>
          start(process.execPath, (port) => [
            cairnBin,
            'start',
            '--dev',
            '--ephemeral',
            '--log.level',
            'warn',
            '--http.port',
            String(port),
            '--fork-url',
            remote.url,
            '--fork-block-number',
            pinned,
          ]),
      ],
      [
        'anvil',
        () =>
          start(anvilBin, (port) => [
            '--port',
            String(port),
            '--silent',
            '--fork-url',
            remote.url,
            '--fork-block-number',
            pinned,
          ]),
      ],
    ]
    for (const [name, open] of forks) {
      const fork = await open()
      try {
        results[name].push(await measure(fork))
      } finally {
        await stop(fork)
      }
    }
  } finally {
    await stop(remote)
  }
}
for (const name of ['cairn', 'anvil'] as const) {
  const f = results[name]
  console.log(
    `${name.padEnd(5)}  start ${Math.round(median(f.map((x) => x.startMs)))} ms  first read ${median(f.map((x) => x.firstReadMs)).toFixed(1)} ms  cold ${Math.round(median(f.map((x) => x.coldPerS)))} reads/s  warm ${Math.round(median(f.map((x) => x.warmPerS)))} reads/s`,
  )
}
const ratio = (k: 'coldPerS' | 'warmPerS') =>
  (median(results.cairn.map((x) => x[k])) / median(results.anvil.map((x) => x[k]))).toFixed(2)
console.log(`cairn / anvil: cold ${ratio('coldPerS')}x, warm ${ratio('warmPerS')}x`)
