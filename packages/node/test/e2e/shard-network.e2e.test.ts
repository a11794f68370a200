/**
 * A network of four shards as real processes (`cairn devnet init --shards 4 --validators 1`,
 * `cairn devnet start`: four nodes, the gateway and the relayer in the supervisor), used the way a
 * user uses it, through the gateway only:
 *   - a contract on shard 3 calls a contract on shard 2 (a message whose receive hook runs there);
 *     the acknowledgement comes back and the bridge calls the sender's `onAcknowledgement`;
 *   - a viem client sends `CAIRN_SHARD_TRANSFERS` (default 1,000) cross-shard transfers from every
 *     shard that has a spare dev account to every other shard, signed locally and sent to the
 *     gateway's root, and sees every receiver's balance land once (each amount is unique), nothing
 *     left in flight, value conserved (what the senders lost is what was credited plus gas).
 * `npm run test:shard-network` (not in `npm test`: five processes and minutes of relaying).
 * `CrossShardPing` is placed in every shard's genesis (shard 2's only dev account pays its relayer).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BRIDGE_ADDRESS, bridgeAbi, homeShard } from '@cairn/consensus/shard'
import {
  createPublicClient,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  parseGwei,
  toHex,
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { crossShardPing, crossShardPingAbi } from '../../../consensus/test/shard/fixtures/cross-shard-ping.ts'
import { runCli } from '../cli/run-cli.ts'
import { CairnProcesses, freePortRange, waitFor } from './harness.ts'

const MNEMONIC = 'test test test test test test test test test test test junk'
const accounts = Array.from({ length: 10 }, (_, i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }))
const SHARDS = 4
const TRANSFERS = Number(process.env.CAIRN_SHARD_TRANSFERS ?? 1000)
const PING = `0x${'50'.repeat(20)}` as Hex
const shardOf = (address: string) => homeShard(Uint8Array.from(Buffer.from(address.slice(2), 'hex')), SHARDS)
/** The relayer pays on each shard with the first dev account living there; the others may send. */
const relayerKeys = new Set(
  Array.from({ length: SHARDS }, (_, k) => accounts.find((a) => shardOf(a.address) === k)?.address),
)
const spare = accounts.filter((a) => !relayerKeys.has(a.address))

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(30_000),
  })
  const json = (await res.json()) as { result?: T; error?: unknown }
  if (json.error) throw new Error(`${method}: ${JSON.stringify(json.error)}`)
  return json.result as T
}

/** Runs `f` over `items` with at most `n` at once. */
async function pool<T, R>(items: T[], n: number, f: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await f(items[i] as T, i)
      }
    }),
  )
  return out
}

/** A fresh address living on `shard`, the i-th of its kind. */
function receiverOn(shard: number, i: number): Hex {
  for (let j = 0; ; j++) {
    const a = `0x${keccak256(toHex(`receiver ${i} ${j}`)).slice(26)}` as Hex
    if (shardOf(a) === shard) return a
  }
}

if (!process.env.CAIRN_SHARD_NETWORK) console.warn('the 4-shard network e2e runs with npm run test:shard-network')

describe.skipIf(!process.env.CAIRN_SHARD_NETWORK)('a network of 4 shards through its gateway', () => {
  const procs = new CairnProcesses()
  const dir = join(mkdtempSync(join(tmpdir(), 'cairn-shardnet-')), 'devnet')
  let gw = ''
  let out: () => string = () => ''
  const shard: PublicClient[] = []
  afterAll(() => {
    procs.killAll()
    rmSync(join(dir, '..'), { recursive: true, force: true })
  })

  beforeAll(async () => {
    const base = await freePortRange(2 * SHARDS + 2)
    const init = await runCli([
      'devnet',
      'init',
      '--shards',
      String(SHARDS),
      '--validators',
      '1',
      '--dir',
      dir,
      '--base-port',
      String(base),
      '--p2p-base-port',
      String(base + SHARDS + 1),
      '--block-time-ms',
      '500',
    ])
    expect(init.code, init.stderr).toBe(0)
    for (let k = 0; k < SHARDS; k++) {
      const path = join(dir, `shard-${k}`, 'genesis.json')
      const g = JSON.parse(readFileSync(path, 'utf8')) as { alloc: Record<string, unknown> }
      g.alloc[PING] = { balance: '0x0', code: crossShardPing().deployedBytecode }
      writeFileSync(path, `${JSON.stringify(g, null, 2)}\n`)
    }
    const devnet = procs.start(['devnet', 'start', '--dir', dir])
    out = devnet.out
    gw = `http://127.0.0.1:${base}`
    await waitFor(
      async () => {
        const info = await rpc<{ shards: { available: boolean; head?: string }[] }>(gw, 'cairn_getShardInfo')
        return info.shards.every((s) => s.available && BigInt(s.head ?? 0) >= 2n)
      },
      240_000,
      'the gateway with every shard producing',
      out,
    )
    for (let k = 0; k < SHARDS; k++) shard.push(createPublicClient({ transport: http(`${gw}/shard/${k}`) }))
  }, 300_000)

  it("a contract on shard 2 receives a message from shard 3; the acknowledgement returns to the sender's contract", async () => {
    const caller = spare.find((a) => shardOf(a.address) === 3) as (typeof accounts)[number]
    expect(caller, 'a spare dev account on shard 3').toBeDefined()
    const s2 = shard[2] as PublicClient
    const s3 = shard[3] as PublicClient
    const raw = await caller.signTransaction({
      chainId: 1337 + 3,
      type: 'eip1559',
      to: PING,
      value: 10n ** 15n,
      data: encodeFunctionData({
        abi: crossShardPingAbi,
        functionName: 'ping',
        args: [2, PING, 1_000_000n, toHex('from shard 3')],
      }),
      nonce: await s3.getTransactionCount({ address: caller.address }),
      gas: 300_000n,
      maxFeePerGas: parseGwei('20'),
      maxPriorityFeePerGas: parseGwei('1'),
    })
    const hash = await rpc<Hex>(gw, 'eth_sendRawTransaction', [raw])
    expect((await s3.waitForTransactionReceipt({ hash, timeout: 60_000, pollingInterval: 250 })).status).toBe('success')
    const t0 = Date.now()
    let status: { status: string; sourceShard: number; destShard: number } | undefined
    await waitFor(
      async () => {
        status = await rpc<typeof status>(gw, 'cairn_getCrossShardTransaction', [hash])
        return status?.status === 'acknowledged'
      },
      180_000,
      'the message acknowledged on shard 3',
      out,
    )
    console.log(`shard 3 → 2 call acknowledged ${((Date.now() - t0) / 1000).toFixed(1)} s after its send was included`)
    expect(status).toMatchObject({ sourceShard: 3, destShard: 2 })
    const read = async (c: PublicClient, functionName: 'pongs' | 'lastPayload' | 'acks' | 'lastStatus' | 'lastAck') =>
      c.readContract({ address: PING, abi: crossShardPingAbi, functionName } as never) as Promise<unknown>
    // The hook ran once on shard 2, with the payload, and was credited the value.
    expect(await read(s2, 'pongs')).toBe(1n)
    expect(await read(s2, 'lastPayload')).toBe(toHex('from shard 3'))
    expect(await s2.getBalance({ address: PING })).toBe(10n ** 15n)
    // Its acknowledgement (keccak256 of the payload) came back to the sending contract on shard 3.
    expect(await read(s3, 'acks')).toBe(1n)
    expect(await read(s3, 'lastStatus')).toBe(1)
    expect(await read(s3, 'lastAck')).toBe(keccak256(toHex('from shard 3')))
    expect(await read(s2, 'acks')).toBe(0n)
  }, 240_000)

  it(`${TRANSFERS} cross-shard transfers sent through the gateway all land once`, async () => {
    const senders = spare
    expect(senders.length).toBeGreaterThan(2)
    const root = createPublicClient({ transport: http(gw) })
    // The supply over all shards of everyone this test touches, and the bridges (which hold nothing).
    const before = await Promise.all(senders.map((a) => root.getBalance({ address: a.address })))
    const nonces = await Promise.all(senders.map((a) => root.getTransactionCount({ address: a.address })))
    const plan = Array.from({ length: TRANSFERS }, (_, i) => {
      const k = i % senders.length
      const from = senders[k] as (typeof senders)[number]
      const home = shardOf(from.address)
      const dest = (home + 1 + (Math.floor(i / senders.length) % (SHARDS - 1))) % SHARDS
      return {
        k,
        from,
        home,
        dest,
        to: receiverOn(dest, i),
        value: 10n ** 12n * BigInt(i + 1),
        nonce: (nonces[k] as number) + Math.floor(i / senders.length),
      }
    })
    const t0 = Date.now()
    // Each sender's transfers in nonce order; the senders at once.
    const hashes = new Array<Hex>(TRANSFERS)
    await Promise.all(
      senders.map(async (_, k) => {
        for (const [i, p] of plan.entries()) {
          if (p.k !== k) continue
          const raw = await p.from.signTransaction({
            chainId: 1337 + p.home,
            type: 'eip1559',
            to: BRIDGE_ADDRESS,
            value: p.value,
            data: encodeFunctionData({
              abi: bridgeAbi,
              functionName: 'send',
              args: [p.dest, p.to, 1_000_000n, '0x'],
            }),
            nonce: p.nonce,
            gas: 150_000n,
            maxFeePerGas: parseGwei('20'),
            maxPriorityFeePerGas: parseGwei('1'),
          })
          hashes[i] = await rpc<Hex>(gw, 'eth_sendRawTransaction', [raw])
        }
      }),
    )
    const sentIn = (Date.now() - t0) / 1000
    const receipts = await pool(hashes, 16, (hash) =>
      root.waitForTransactionReceipt({ hash, timeout: 180_000, pollingInterval: 500 }),
    )
    expect(receipts.filter((r) => r.status !== 'success')).toEqual([])
    const included = (Date.now() - t0) / 1000
    // Every receiver's balance, read through the gateway's root (routed to the receiver's shard).
    const landed = new Set<number>()
    await waitFor(
      async () => {
        const todo = plan.map((_, i) => i).filter((i) => !landed.has(i))
        await pool(todo, 16, async (i) => {
          const p = plan[i] as (typeof plan)[number]
          const b = await root.getBalance({ address: p.to })
          if (b === p.value) landed.add(i)
          else expect(b, `receiver ${i}`).toBe(0n)
        })
        return landed.size === TRANSFERS
      },
      900_000,
      `every one of ${TRANSFERS} balances landed`,
      out,
    )
    const landedIn = (Date.now() - t0) / 1000
    // Nothing in flight once every acknowledgement is back; value conserved.
    type Info = { shards: { crossShard?: { out: string; in: string; pendingOut: string } }[] }
    await waitFor(
      async () =>
        (await rpc<Info>(gw, 'cairn_getShardInfo')).shards.every((s) => BigInt(s.crossShard?.pendingOut ?? 1) === 0n),
      300_000,
      'every message settled on its source',
      out,
    )
    console.log(
      `${TRANSFERS} cross-shard transfers: sent in ${sentIn.toFixed(1)} s, included by ${included.toFixed(1)} s, ` +
        `all landed by ${landedIn.toFixed(1)} s, all settled by ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    )
    const after = await Promise.all(senders.map((a) => root.getBalance({ address: a.address })))
    const lost = before.reduce((x, b, k) => x + b - (after[k] as bigint), 0n)
    const gas = receipts.reduce((g, r) => g + r.gasUsed * r.effectiveGasPrice, 0n)
    const credited = plan.reduce((x, p) => x + p.value, 0n)
    expect(lost).toBe(credited + gas)
    for (const c of shard) expect(await c.getBalance({ address: BRIDGE_ADDRESS })).toBe(0n)
  }, 1_500_000)
})
