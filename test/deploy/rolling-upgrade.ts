// `npm run test:rolling-upgrade`: the rolling-upgrade guarantee on real processes. A 4-validator
// devnet (`cairn devnet init`, one `cairn start --config` per node) under a steady stream of
// transfers; each validator in turn is stopped with SIGTERM (it must say "stopped cleanly" and exit
// 0) and replaced by another build — a copy of packages/node whose package.json says another
// version, so `web3_clientVersion` tells the builds apart — started on the same datadir. Checked:
// the finalized block moves on while each node is away, the new build rejoins and reports its
// version, every acknowledged transaction has the same receipt on every node at the end, every
// block hash agrees, and no block carries double-signing evidence.
// Not in CI (several minutes on 2 cores). Exit 0 on success, 1 with the failed check.
import { type ChildProcess, spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, createWalletClient, defineChain, http, type PublicClient, parseEther } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'

const ROOT = join(import.meta.dirname, '../..')
const OLD_BIN = join(ROOT, 'packages/node/bin/cairn.js')
const started = Date.now()
const log = (msg: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function fail(msg: string): never {
  log(`FAIL: ${msg}`)
  cleanup()
  process.exit(1)
}

async function freePortBlock(n: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    const ok = await Promise.all(
      Array.from(
        { length: n },
        (_, k) =>
          new Promise<boolean>((r) => {
            const s = createServer()
            s.once('error', () => r(false))
            s.listen(base + k, '127.0.0.1', () => s.close(() => r(true)))
          }),
      ),
    )
    if (ok.every(Boolean)) return base
  }
}

async function waitFor(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      if (await pred()) return
    } catch {}
    if (Date.now() > until) fail(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

const dir = mkdtempSync(join(tmpdir(), 'cairn-rolling-'))
const procs = new Map<number, { child: ChildProcess; out: string[]; exited: Promise<number | null> }>()
function cleanup(): void {
  for (const p of procs.values())
    if (p.child.pid !== undefined && p.child.exitCode === null)
      try {
        process.kill(-p.child.pid, 'SIGKILL')
      } catch {}
  rmSync(dir, { recursive: true, force: true })
}
process.on('SIGINT', () => fail('interrupted'))

function run(args: string[], bin = OLD_BIN) {
  const child = spawn(process.execPath, [bin, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CAIRN_'))),
  })
  const out: string[] = []
  for (const s of [child.stdout, child.stderr]) s?.on('data', (d) => out.push(String(d)))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return { child, out, exited }
}

// The "new build": packages/node copied with another version; its imports of the other workspace
// packages and of npm packages resolve through this checkout's node_modules.
const NEW_VERSION = '0.1.0-upgrade.1'
const newRoot = join(dir, 'build-b')
cpSync(join(ROOT, 'packages/node'), join(newRoot, 'packages/node'), {
  recursive: true,
  preserveTimestamps: true,
  // no test/ and no dist/: the new build runs from its sources, as this checkout's does while its
  // bundle is older than them
  filter: (src) => !/\/(test|dist)(\/|$)/.test(src),
})
symlinkSync(join(ROOT, 'node_modules'), join(newRoot, 'node_modules'))
const pkgFile = join(newRoot, 'packages/node/package.json')
const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }
const OLD_VERSION = pkg.version
writeFileSync(pkgFile, `${JSON.stringify({ ...pkg, version: NEW_VERSION }, null, 2)}\n`)
const NEW_BIN = join(newRoot, 'packages/node/bin/cairn.js')

const base = await freePortBlock(8)
const init = run([
  'devnet',
  'init',
  '--validators',
  '4',
  '--dir',
  join(dir, 'net'),
  '--base-port',
  String(base),
  '--p2p-base-port',
  String(base + 4),
])
if ((await init.exited) !== 0) fail(`devnet init: ${init.out.join('')}`)
const chain = defineChain({
  id: 1337,
  name: 'devnet',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [`http://127.0.0.1:${base}`] } },
})
const urls = [0, 1, 2, 3].map((k) => `http://127.0.0.1:${base + k}`)
const clients: PublicClient[] = urls.map((u) => createPublicClient({ chain, transport: http(u, { retryCount: 0 }) }))
const start = (k: number, bin = OLD_BIN) =>
  procs.set(k, run(['start', '--config', join(dir, 'net', `node-${k + 1}.toml`)], bin))
for (let k = 0; k < 4; k++) start(k)
log(`4 validators starting (${OLD_VERSION}), RPC ${urls[0]}..`)
await waitFor(
  async () => (await Promise.all(clients.map((c) => c.getBlockNumber()))).every((n) => n >= 2n),
  300_000,
  'all four at height 2',
)
log('network up')

// Load: transfers from dev account 0, one at a time, to a node that is up; a hash is acknowledged.
const account = mnemonicToAccount('test test test test test test test test test test test junk')
const acknowledged: `0x${string}`[] = []
let down = -1
let loading = true
let nonce = await clients[0]!.getTransactionCount({ address: account.address, blockTag: 'pending' })
const load = (async () => {
  let i = 0
  while (loading) {
    const k = [0, 1, 2, 3].filter((j) => j !== down)[i++ % 3] as number
    const wallet = createWalletClient({ account, chain, transport: http(urls[k], { retryCount: 0 }) })
    try {
      const hash = await wallet.sendTransaction({
        to: '0x000000000000000000000000000000000000bEEF',
        value: parseEther('0.001'),
        nonce,
      })
      acknowledged.push(hash)
      nonce++
    } catch (err) {
      const msg = String((err as Error).message)
      // the node refused it knowingly (it already has it): acknowledged earlier under this nonce
      if (/already known|nonce too low/i.test(msg))
        nonce = await clients[(k + 1) % 4 === down ? (k + 2) % 4 : (k + 1) % 4]!.getTransactionCount({
          address: account.address,
          blockTag: 'pending',
        })
    }
    await sleep(200)
  }
})()

const finalized = async (k: number) => (await clients[k]!.getBlock({ blockTag: 'finalized' })).number
for (let k = 3; k >= 0; k--) {
  const other = (k + 1) % 4
  const before = await finalized(other)
  const p = procs.get(k)!
  down = k
  const stopAt = Date.now()
  process.kill(p.child.pid as number, 'SIGTERM')
  const code = await Promise.race([p.exited, sleep(60_000).then(() => 'timeout' as const)])
  const said = p.out.join('')
  if (code !== 0 || !said.includes('stopped cleanly') || said.includes('second signal'))
    fail(`node-${k + 1} did not stop cleanly (exit ${code}):\n${said.slice(-2000)}`)
  log(`node-${k + 1} stopped cleanly in ${Date.now() - stopAt} ms`)
  // The chain goes on with three of four while the node is away.
  await waitFor(
    async () => (await finalized(other)) >= before + 3n,
    120_000,
    `finality to continue without node-${k + 1}`,
  )
  log(`finalized ${before} → ${await finalized(other)} with node-${k + 1} down`)
  start(k, NEW_BIN)
  await waitFor(
    async () => (await clients[k]!.request({ method: 'web3_clientVersion' })).includes(`v${NEW_VERSION}/`),
    240_000,
    `node-${k + 1} to come back as ${NEW_VERSION}`,
  )
  await waitFor(async () => (await finalized(k)) >= (await finalized(other)) - 1n, 240_000, `node-${k + 1} to catch up`)
  down = -1
  log(`node-${k + 1} back on ${NEW_VERSION}, finalized ${await finalized(k)}`)
}
loading = false
await load
log(`${acknowledged.length} transactions acknowledged`)
if (acknowledged.length < 10) fail('too few transactions were sent to mean anything')

// Every acknowledged transaction is mined, in the same block on every node; hashes agree; no evidence.
await waitFor(
  async () =>
    (
      await Promise.all(clients.map((c) => c.getTransactionReceipt({ hash: acknowledged.at(-1)! }).then(() => true)))
    ).every(Boolean),
  120_000,
  'the last transaction mined everywhere',
)
for (const hash of acknowledged) {
  const blocks = await Promise.all(
    clients.map((c) =>
      c
        .getTransactionReceipt({ hash })
        .then((r) => r.blockHash)
        .catch(() => 'missing'),
    ),
  )
  if (new Set(blocks).size !== 1 || blocks[0] === 'missing')
    fail(`transaction ${hash} lost or split: ${blocks.join(' ')}`)
}
const top = (await Promise.all(clients.map((c) => c.getBlockNumber()))).reduce((a, b) => (a < b ? a : b))
let evidence = 0
for (let n = 1n; n <= top; n++) {
  const hashes = await Promise.all(clients.map((c) => c.getBlock({ blockNumber: n }).then((b) => b.hash)))
  if (new Set(hashes).size !== 1) fail(`block ${n} differs between nodes`)
  const e = (await clients[0]!.request({
    method: 'cairn_getEvidence' as 'eth_chainId',
    params: [`0x${n.toString(16)}`] as never,
  })) as unknown
  if (Array.isArray(e)) evidence += e.length
}
if (evidence > 0) fail(`${evidence} piece(s) of double-signing evidence in blocks 1..${top}`)
const versions = await Promise.all(clients.map((c) => c.request({ method: 'web3_clientVersion' })))
log(
  `all four on ${NEW_VERSION} (${versions[0]}); blocks 1..${top} agree; no evidence; every acknowledged transaction mined`,
)
for (const p of procs.values()) process.kill(p.child.pid as number, 'SIGTERM')
await Promise.all([...procs.values()].map((p) => p.exited))
rmSync(dir, { recursive: true, force: true })
log('PASS')
