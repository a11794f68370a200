// `cairn devnet`: four validator processes on loopback. viem sends a transaction to one node;
// every node reports the same block hashes and the same finalized block; after kill -9 of one
// validator the other three go on; Ctrl-C on `cairn devnet start` stops the rest; started again,
// all four resume from their datadirs.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPublicClient, createWalletClient, defineChain, http, parseEther } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { CAIRN_BIN, cleanEnv } from '../cli/run-cli.ts'
import { initDevnet } from './harness.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-devnet-'))
let devnet: ChildProcess | undefined
afterAll(() => {
  if (devnet?.pid !== undefined && devnet.exitCode === null) {
    try {
      process.kill(-devnet.pid, 'SIGKILL')
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
    const { base } = await initDevnet(join(dir, 'dn'))
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

    // Ctrl-C: every node stops, and so does `devnet start`.
    process.kill(devnet.pid as number, 'SIGINT')
    expect(await exited).toBe(0)
    expect(out.match(/exited/g)?.length).toBe(4)

    // All four again, from their datadirs (chain, signer state, WAL): the chain resumes where it was.
    const stoppedAt = at + 3n
    devnet = spawn(process.execPath, [CAIRN_BIN, 'devnet', 'start', '--dir', join(dir, 'dn')], {
      env: cleanEnv(),
      detached: true,
      stdio: ['ignore', 'ignore', 'ignore'],
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
