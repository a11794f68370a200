// Proof of work with real processes: two `cairn start --mine` nodes on a PoW genesis (64 KiB
// seals, ~512 attempts a block, 1 s spacing) peer over loopback and converge on one chain; a
// transaction sent to one is mined and seen by both; an external `cairn miner` seals a block
// through eth_getWork / eth_submitWork of the second; and eth_submitWork refuses unknown work, a
// seal above the target, a forged seal and stale work, each with its own code. And two miners
// started apart, each on a branch of its own, converge once peered (sync compares total work).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parsePowConfig, powGenesis, trySealHash } from '@cairn/consensus/pow'
import { createWalletClient, defineChain, http, parseEther } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { afterAll, describe, expect, it } from 'vitest'
import { type CairnProcess, startCairn } from '../cli/cluster.ts'
import { runCli } from '../cli/run-cli.ts'
import { waitFor as pollUntil } from './harness.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const dir = mkdtempSync(join(tmpdir(), 'cairn-pow-'))
const nodes: CairnProcess[] = []
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill9()))
  rmSync(dir, { recursive: true, force: true })
})

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await res.json()) as { result?: T; error?: { code: number; message: string; data?: { code?: string } } }
  if (body.error) throw Object.assign(new Error(body.error.message), { rpc: body.error })
  return body.result as T
}

async function rpcError(url: string, method: string, params: unknown[]) {
  try {
    await rpc(url, method, params)
  } catch (err) {
    return (err as { rpc: { code: number; data?: { code?: string } } }).rpc
  }
  throw new Error(`${method} did not fail`)
}

/** The harness's poll, failing with every node's output tail. */
const waitFor = (pred: () => Promise<boolean>, ms: number, what: string) =>
  pollUntil(pred, ms, what, () => nodes.map((n) => n.out().slice(-1500)).join('\n----\n'))

const number = async (url: string) => BigInt(await rpc<string>(url, 'eth_blockNumber'))
const hashAt = async (url: string, n: bigint) =>
  (await rpc<{ hash: string } | null>(url, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false]))?.hash

describe.skipIf(process.env.CAIRN_E2E_POW !== '1')(
  'proof of work: mining processes, an external miner, bad work',
  () => {
    it('two miners converge, a transaction is mined, cairn miner seals through the work API, bad work is refused', async () => {
      const params = parsePowConfig({
        config: {
          cairn: {
            pow: {
              spacing: 1,
              halfLife: 60,
              powLimit: '0x207fffff',
              genesisBits: '0x1f7fffff',
              seal: { memoryKiB: 64, iterations: 1 },
            },
          },
        },
      })
      const sender = mnemonicToAccount(MNEMONIC)
      const genesis = powGenesis({
        chainId: 4343,
        params,
        alloc: { [sender.address]: 10n ** 22n },
        timestamp: Math.floor(Date.now() / 1000) - 1,
      })
      const genesisPath = join(dir, 'genesis.json')
      writeFileSync(genesisPath, JSON.stringify(genesis))
      const common = [
        '--genesis',
        genesisPath,
        '--p2p.enabled',
        '--mine',
        '--miner.threads',
        '1',
        '--rpc.api',
        'eth,net,web3,admin',
      ]
      // A first, then B with A as its bootnode: B syncs A's first blocks before its own branch grows.
      // (Nodes started apart and peered later: the next test.)
      const a = await startCairn(
        [...common, '--datadir', join(dir, 'a'), '--miner.coinbase', `0x${'a1'.repeat(20)}`],
        45_000,
      )
      nodes.push(a)
      const b = await startCairn(
        [...common, '--datadir', join(dir, 'b'), '--miner.coinbase', `0x${'b2'.repeat(20)}`, '--p2p.bootnodes', a.addr],
        45_000,
      )
      nodes.push(b)

      // Both mine, and agree on the chain below their tips.
      await waitFor(
        async () => (await number(a.url)) >= 4n && (await number(b.url)) >= 4n,
        40_000,
        'both nodes at block 4',
      )
      expect(await rpc<boolean>(a.url, 'eth_mining')).toBe(true)

      // A transaction sent to A is mined, and B sees its receipt.
      const chain = defineChain({
        id: 4343,
        name: 'pow',
        nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
        rpcUrls: { default: { http: [a.url] } },
      })
      const wallet = createWalletClient({ account: sender, chain, transport: http(a.url) })
      const hash = await wallet.sendTransaction({ to: `0x${'be'.repeat(20)}`, value: parseEther('1') })
      await waitFor(
        async () => (await rpc<unknown>(b.url, 'eth_getTransactionReceipt', [hash])) !== null,
        30_000,
        'the receipt on B',
      )

      // The external miner seals two blocks through B's work API.
      const miner = await runCli(['miner', '--url', b.url, '--threads', '1', '--blocks', '1', '--poll-ms', '200'], {
        timeoutMs: 40_000,
      })
      expect(miner.stdout).toContain('stopped: 1 seals accepted')

      // Converged: a block well below both tips has the same hash on both.
      await waitFor(
        async () => {
          const n = ((await number(a.url)) < (await number(b.url)) ? await number(a.url) : await number(b.url)) - 2n
          return n > 0n && (await hashAt(a.url, n)) === (await hashAt(b.url, n))
        },
        30_000,
        'the same block on both nodes',
      )

      // Bad work on B: unknown, above the target, forged, stale — each with its own code.
      const unknown = await rpcError(b.url, 'eth_submitWork', [
        `0x${'00'.repeat(8)}`,
        `0x${'11'.repeat(32)}`,
        `0x${'22'.repeat(32)}`,
      ])
      expect(unknown.data?.code).toBe('CONSENSUS_POW_UNKNOWN_WORK')
      // The head moves about once a second: a refusal for staleness means the work moved on; ask again.
      const refusal = async (mix: string) => {
        for (let i = 0; ; i++) {
          const [work] = await rpc<[string, string, string, string]>(b.url, 'eth_getWork')
          const err = await rpcError(b.url, 'eth_submitWork', [`0x${'00'.repeat(8)}`, work, mix])
          if (err.data?.code !== 'CONSENSUS_POW_STALE_WORK' || i === 20) return err.data?.code
        }
      }
      expect(await refusal(`0x${'ff'.repeat(32)}`)).toBe('CONSENSUS_POW_INSUFFICIENT_WORK')
      expect(await refusal(`0x${'00'.repeat(31)}01`)).toBe('CONSENSUS_POW_INVALID_SEAL')
      const [sealHash, , boundary] = await rpc<[string, string, string, string]>(b.url, 'eth_getWork')
      expect(BigInt(boundary)).toBeGreaterThan(0n)
      const before = await number(b.url)
      await waitFor(async () => (await number(b.url)) > before, 30_000, 'a new head on B')
      let seal: Awaited<ReturnType<typeof trySealHash>>
      for (let n = 0n; !seal; n++)
        seal = await trySealHash(Buffer.from(sealHash.slice(2), 'hex'), n, params.seal, BigInt(boundary))
      const stale = await rpcError(b.url, 'eth_submitWork', [
        `0x${Buffer.from(seal.nonce).toString('hex')}`,
        sealHash,
        `0x${Buffer.from(seal.mixHash).toString('hex')}`,
      ])
      expect(stale.data?.code).toBe('CONSENSUS_POW_STALE_WORK')
    }, 120_000)

    it('two miners that mined apart converge once peered: the lighter branch follows the heavier', async () => {
      const params = parsePowConfig({
        config: {
          cairn: {
            pow: {
              spacing: 1,
              halfLife: 60,
              powLimit: '0x207fffff',
              genesisBits: '0x1f7fffff',
              seal: { memoryKiB: 64, iterations: 1 },
            },
          },
        },
      })
      const genesis = powGenesis({ chainId: 4344, params, timestamp: Math.floor(Date.now() / 1000) - 1 })
      const genesisPath = join(dir, 'genesis-apart.json')
      writeFileSync(genesisPath, JSON.stringify(genesis))
      const args = (name: string, coinbase: string) => [
        '--genesis',
        genesisPath,
        '--p2p.enabled',
        '--mine',
        '--miner.threads',
        '1',
        '--rpc.api',
        'eth,net,web3,admin',
        '--datadir',
        join(dir, name),
        '--miner.coinbase',
        `0x${coinbase.repeat(20)}`,
      ]
      // No bootnodes: each mines a branch of its own.
      const [c, d] = await Promise.all([startCairn(args('c', 'c3'), 45_000), startCairn(args('d', 'd4'), 45_000)])
      nodes.push(c, d)
      await waitFor(
        async () => (await number(c.url)) >= 3n && (await number(d.url)) >= 3n,
        40_000,
        'both branches at block 3',
      )
      expect(await hashAt(c.url, 2n)).not.toBe(await hashAt(d.url, 2n))
      // Peered: the status carries each head's work; the node behind syncs the heavier branch.
      await rpc(d.url, 'admin_addPeer', [c.addr])
      await waitFor(
        async () => {
          const n = ((await number(c.url)) < (await number(d.url)) ? await number(c.url) : await number(d.url)) - 1n
          return n >= 2n && (await hashAt(c.url, n)) === (await hashAt(d.url, n))
        },
        40_000,
        'one chain on both nodes',
      )
    }, 120_000)
  },
)
