// `cairn devnet`: four validator processes on loopback. viem sends a transaction to one node;
// every node reports the same block hashes and the same finalized block; after kill -9 of one
// validator the other three go on; Ctrl-C on `cairn devnet start` (SIGINT to its whole process
// group, as a terminal sends it) stops the rest cleanly, each node once ("stopped cleanly", no
// "second signal"); started again, all four resume from their datadirs. A follower started with
// `--follow` and the devnet's genesis (no engine set) takes the BFT engine from the genesis and
// imports the validators' blocks.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, createWalletClient, defineChain, http, parseEther } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { CAIRN_BIN, cleanEnv } from '../cli/run-cli.ts'
import { initDevnet } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-'))
let devnet: ChildProcess | undefined
let follower: ChildProcess | undefined
afterAll(() => {
  // The nodes run in process groups of their own (see `cairn devnet start`): each is killed too.
  const pids = [...output.matchAll(/\[devnet\] node-\d+ pid (\d+)/g)].map((m) => Number(m[1]))
  for (const p of [devnet, follower]) if (p?.pid !== undefined && p.exitCode === null) pids.push(p.pid)
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true })
})

const chain = defineChain({
  id: 1337,
  name: 'devnet',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1:8545'] } },
})

/** The devnet's output so far (stdout and stderr), said when a wait times out. */
let output = ''

async function waitFor(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      if (await pred()) return
    } catch {}
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; the devnet said:\n${output.slice(-4000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('cairn devnet (4 validator processes)', () => {
  it('init + start: same hashes and finalized block on every node; survives kill -9 of one; Ctrl-C stops all', async () => {
    const { base, p2pBase } = await initDevnet(join(dir, 'dn'))
    devnet = spawn(process.execPath, [CAIRN_BIN, 'devnet', 'start', '--dir', join(dir, 'dn')], {
      env: cleanEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    devnet.stdout?.on('data', (d) => {
      out += String(d)
      output += String(d)
    })
    devnet.stderr?.on('data', (d) => {
      output += String(d)
    })
    const exited = new Promise<number | null>((r) => devnet?.once('exit', (code) => r(code)))

    const clients = [0, 1, 2, 3].map((k) =>
      createPublicClient({ chain, transport: http(`http://127.0.0.1:${base + k}`) }),
    )
    const live = () => clients.filter((_, k) => k !== killed)
    let killed = -1
    await waitFor(
      async () => (await Promise.all(clients.map((c) => c.getBlockNumber()))).every((n) => n >= 2n),
      240_000,
      'all four nodes at height 2',
    )

    const account = mnemonicToAccount('test test test test test test test test test test test junk')
    const wallet = createWalletClient({ account, chain, transport: http(`http://127.0.0.1:${base + 1}`) })
    const hash = await wallet.sendTransaction({
      to: '0x000000000000000000000000000000000000bEEF',
      value: parseEther('1'),
    })
    await waitFor(
      async () =>
        (await Promise.all(clients.map((c) => c.getTransactionReceipt({ hash }).then(() => true)))).every(Boolean),
      120_000,
      'the receipt on every node',
    )
    const receipts = await Promise.all(clients.map((c) => c.getTransactionReceipt({ hash })))
    expect(new Set(receipts.map((r) => r.blockHash)).size).toBe(1)

    // A follower with the devnet's genesis and node-1 as its bootnode, no engine set: it runs the
    // genesis's BFT engine and imports the validators' blocks (the one with the transaction too).
    const node1 = /bootnodes = \["([^"]+)"/.exec(readFileSync(join(dir, 'dn', 'node-2.toml'), 'utf8'))?.[1]
    expect(node1).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    let followerLog = ''
    follower = spawn(
      process.execPath,
      [
        CAIRN_BIN,
        'start',
        '--follow',
        '--genesis',
        join(dir, 'dn', 'genesis.json'),
        '--datadir',
        join(dir, 'follower'),
        '--http.port',
        String(base + 4),
        '--p2p.addr',
        '127.0.0.1',
        '--p2p.port',
        String(p2pBase + 4),
        '--p2p.bootnodes',
        node1 as string,
      ],
      { env: cleanEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    for (const stream of [follower.stdout, follower.stderr]) stream?.on('data', (d) => (followerLog += String(d)))
    const followerClient = createPublicClient({ chain, transport: http(`http://127.0.0.1:${base + 4}`) })
    await waitFor(
      async () => (await followerClient.getTransactionReceipt({ hash })).blockHash === receipts[0]?.blockHash,
      120_000,
      `the follower to import the block with the transaction (follower said: ${followerLog.slice(-2000)})`,
    )
    // Stopped before the rest of the test. (Its exit code is not asserted: a follower stopped during
    // range sync has been seen to pass its 10 s shutdown deadline and exit 1 — a separate bug.)
    const followerExited = new Promise<number | null>((r) => follower?.once('exit', (code) => r(code)))
    process.kill(follower.pid as number, 'SIGTERM')
    await followerExited

    const top = (await Promise.all(clients.map((c) => c.getBlockNumber()))).reduce((a, b) => (a < b ? a : b))
    for (let n = 1n; n <= top; n++) {
      const hashes = await Promise.all(clients.map((c) => c.getBlock({ blockNumber: n }).then((b) => b.hash)))
      expect(new Set(hashes).size, `block ${n}`).toBe(1)
    }
    // Every node's finalized block is at least `top`, and block `top` is the same everywhere.
    const finalized = await Promise.all(clients.map((c) => c.getBlock({ blockTag: 'finalized' })))
    for (const f of finalized) expect(f.number).toBeGreaterThanOrEqual(top)

    // kill -9 one validator: the other three (3/4 of the power) go on.
    const pid = Number(/\[devnet\] node-4 pid (\d+)/.exec(out)?.[1])
    expect(pid).toBeGreaterThan(0)
    process.kill(pid, 'SIGKILL')
    killed = 3
    await waitFor(async () => /node-4 exited/.test(out), 30_000, 'node-4 to exit')
    const at = (await Promise.all(live().map((c) => c.getBlockNumber()))).reduce((a, b) => (a > b ? a : b))
    await waitFor(
      async () => (await Promise.all(live().map((c) => c.getBlockNumber()))).every((n) => n >= at + 3n),
      120_000,
      'three more blocks with node-4 dead',
    )
    const after = await Promise.all(live().map((c) => c.getBlock({ blockNumber: at + 3n }).then((b) => b.hash)))
    expect(new Set(after).size).toBe(1)

    // Ctrl-C, as a terminal sends it (SIGINT to the foreground process group): every node stops
    // cleanly, once, and so does `devnet start`.
    process.kill(-(devnet.pid as number), 'SIGINT')
    expect(await exited).toBe(0)
    expect(out.match(/exited/g)?.length).toBe(4)
    expect(output).not.toContain('second signal')
    for (const k of [1, 2, 3]) expect(output).toMatch(new RegExp(`\\[node-${k}\\] .*stopped cleanly`))
    expect(out).toMatch(/node-1 exited \(code 0\)/)

    // All four again, from their datadirs (chain, signer state, WAL): the chain resumes where it was.
    const stoppedAt = at + 3n
    devnet = spawn(process.execPath, [CAIRN_BIN, 'devnet', 'start', '--dir', join(dir, 'dn')], {
      env: cleanEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    devnet.stdout?.on('data', (d) => {
      output += String(d)
    })
    const exitedAgain = new Promise<number | null>((r) => devnet?.once('exit', (code) => r(code)))
    killed = -1
    await waitFor(
      async () => (await Promise.all(clients.map((c) => c.getBlockNumber()))).every((n) => n >= stoppedAt + 2n),
      240_000,
      'all four past where they stopped',
    )
    const resumed = await Promise.all(
      clients.map((c) => c.getBlock({ blockNumber: stoppedAt + 2n }).then((b) => b.hash)),
    )
    expect(new Set(resumed).size).toBe(1)
    // The blocks from before the restart are still there, unchanged.
    expect(await clients[0]?.getBlock({ blockNumber: stoppedAt }).then((b) => b.hash)).toBe(after[0])
    process.kill(devnet.pid as number, 'SIGINT')
    expect(await exitedAgain).toBe(0)
  }, 600_000)
})
