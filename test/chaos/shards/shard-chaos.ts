// `npm run test:shard-chaos -- [--shards S] [--validators V] [--duration SECONDS] [--seed N] [--dir D] [--keep] [--no-pause]`
//
// Chaos over a devnet of shards as real processes (no network namespaces: runs as any user):
// `cairn devnet init --shards S --validators V`, every node its own `cairn start`, two relayers
// (`cairn relayer`, each with keys of its own, funded at the start). For `--duration` seconds the
// dev accounts send random cross-shard transfers between every pair of shards (some with timeouts
// that expire: refunds) while a seeded nemesis kills (SIGKILL, then restarts) and pauses (SIGSTOP,
// SIGCONT) validators and relayers, and an adversary replays delivered messages, tampers amounts
// and re-settles settled ones (eth_call: each must be refused). Then everything is resumed, the
// relayers drain every channel, and `shard-checker.ts` checks the bridges' events and the balances:
// supply conserved, each message decided once and settled once, per-channel order, nothing forged
// or replayed accepted. Exit 0 clean, 1 on a violation (with the seed and the kept directory).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  BRIDGE_ADDRESS,
  bridgeAbi,
  commitmentSlot,
  decodeMessage,
  encodeMessage,
  homeShard,
  ReceiptStatus,
  receiptSlot,
} from '@cairn/consensus/shard'
import {
  decodeErrorResult,
  decodeEventLog,
  decodeFunctionResult,
  encodeFunctionData,
  type Hex,
  hexToBytes,
  keccak256,
  numberToHex,
  toHex,
} from 'viem'
import { mnemonicToAccount, type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { Prng } from '../prng.ts'
import { checkShardRun, type ReceivedEvent, type SentEvent, type SettledEvent } from './shard-checker.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CAIRN = join(ROOT, 'packages/node/bin/cairn.js')
const MNEMONIC = 'test test test test test test test test test test test junk'

function parse(argv: string[]) {
  const o = {
    shards: 3,
    validators: 1,
    duration: 120,
    seed: Math.floor(Math.random() * 2 ** 31),
    dir: '',
    keep: false,
    pause: true,
  }
  for (let i = 0; i < argv.length; i++) {
    const [a, v] = [argv[i], argv[i + 1]]
    const int = (lo: number, hi: number) => {
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) {
        process.stderr.write(`shard-chaos: ${a} expects an integer ${lo}..${hi}, got ${v}\n`)
        process.exit(2)
      }
      i++
      return Number(v)
    }
    if (a === '--shards') o.shards = int(2, 8)
    else if (a === '--validators') o.validators = int(1, 4)
    else if (a === '--duration') o.duration = int(10, 86_400)
    else if (a === '--seed') o.seed = int(0, 2 ** 31)
    else if (a === '--dir') {
      o.dir = v ?? ''
      i++
    } else if (a === '--keep') o.keep = true
    else if (a === '--no-pause') o.pause = false
    else {
      process.stderr.write(`shard-chaos: unknown argument ${a}\n`)
      process.exit(2)
    }
  }
  o.dir ||= join(tmpdir(), `cairn-shard-chaos-${o.seed}`)
  return o
}

const opts = parse(process.argv.slice(2))
const prng = new Prng(opts.seed)
const rand = () => prng.next()
const S = opts.shards
const V = opts.validators
const shardOf = (a: string) => homeShard(hexToBytes(a as Hex), S)
const say = (msg: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(15_000),
  })
  const json = (await res.json()) as { result?: T; error?: { message: string; data?: unknown } }
  if (json.error) throw Object.assign(new Error(`${method}: ${json.error.message}`), { data: json.error.data })
  return json.result as T
}

// ---- processes ------------------------------------------------------------------------------
interface Proc {
  name: string
  args: string[]
  child?: ChildProcess
  paused: boolean
}
const procs: Proc[] = []
function launch(p: Proc): void {
  const child = spawn(process.execPath, [CAIRN, ...p.args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, NODE_ENV: 'production' },
  })
  p.child = child
  p.paused = false
}
function signal(p: Proc, sig: NodeJS.Signals): void {
  if (p.child?.pid === undefined || p.child.exitCode !== null) return
  try {
    process.kill(-p.child.pid, sig)
  } catch {}
}
function stopAll(): void {
  for (const p of procs) {
    signal(p, 'SIGCONT')
    signal(p, 'SIGKILL')
  }
}
process.on('SIGINT', () => {
  stopAll()
  process.exit(130)
})
for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(ev, (err) => {
    stopAll()
    process.stderr.write(`shard-chaos: the harness failed (seed ${opts.seed}): ${(err as Error)?.stack ?? err}\n`)
    process.exit(2)
  })
}

// ---- the network ----------------------------------------------------------------------------
rmSync(opts.dir, { recursive: true, force: true })
mkdirSync(opts.dir, { recursive: true })
const base = 20_000 + Math.floor(rand() * 20_000)
const init = spawnSync(
  process.execPath,
  [
    CAIRN,
    'devnet',
    'init',
    '--shards',
    String(S),
    '--validators',
    String(V),
    '--dir',
    join(opts.dir, 'devnet'),
    '--base-port',
    String(base),
    '--p2p-base-port',
    String(base + S * V + 1),
    '--block-time-ms',
    '500',
  ],
  { encoding: 'utf8' },
)
if (init.status !== 0) {
  process.stderr.write(`shard-chaos: devnet init failed\n${init.stderr}\n`)
  process.exit(2)
}
const gw = JSON.parse(readFileSync(join(opts.dir, 'devnet', 'gateway.json'), 'utf8')) as {
  shards: { id: number; url: string }[]
}
/** Node i of shard k serves JSON-RPC on base + 1 + k·V + i. */
const urlOf = (k: number, i: number) => `http://127.0.0.1:${base + 1 + k * V + i}`
const validators: Proc[][] = Array.from({ length: S }, (_, k) =>
  Array.from({ length: V }, (_, i) => ({
    name: `shard-${k}/node-${i + 1}`,
    args: ['start', '--config', join(opts.dir, 'devnet', `shard-${k}`, `node-${i + 1}.toml`)],
    paused: false,
  })),
)
for (const p of validators.flat()) {
  procs.push(p)
  launch(p)
}
say(`seed ${opts.seed}: ${S} shards × ${V} validators in ${opts.dir}; waiting for every shard`)
async function liveUrl(k: number): Promise<string | undefined> {
  for (let i = 0; i < V; i++) {
    const url = urlOf(k, i)
    try {
      await rpc(url, 'eth_blockNumber')
      return url
    } catch {}
  }
  return undefined
}
async function until(what: string, ms: number, f: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    try {
      if (await f()) return
    } catch {}
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await sleep(500)
  }
}
try {
  await until('every shard producing', 300_000, async () => {
    for (let k = 0; k < S; k++) {
      const url = await liveUrl(k)
      if (!url || BigInt(await rpc<Hex>(url, 'eth_blockNumber')) < 2n) return false
    }
    return true
  })
} catch (err) {
  stopAll()
  throw err
}

const dev = Array.from({ length: 10 }, (_, i) => mnemonicToAccount(MNEMONIC, { addressIndex: i }))
const gasFees = { maxFeePerGas: 20n * 10n ** 9n, maxPriorityFeePerGas: 10n ** 9n }

/** Sends a signed transaction on shard k and waits for it; resends the same bytes while a node is down. */
async function transact(
  k: number,
  account: { address: Hex; signTransaction: PrivateKeyAccount['signTransaction'] },
  tx: { to: Hex; value?: bigint; data?: Hex; gas: bigint },
  deadline = Date.now() + 120_000,
): Promise<{ hash: Hex; gasCost: bigint } | undefined> {
  let url = await liveUrl(k)
  while (!url && Date.now() < deadline) {
    await sleep(1000)
    url = await liveUrl(k)
  }
  if (!url) return undefined
  let nonce: number | undefined
  while (nonce === undefined) {
    if (Date.now() > deadline) return undefined
    try {
      nonce = Number(
        BigInt(await rpc<Hex>((await liveUrl(k)) ?? url, 'eth_getTransactionCount', [account.address, 'latest'])),
      )
    } catch {
      await sleep(1000)
    }
  }
  const raw = await account.signTransaction({
    chainId: 1337 + k,
    type: 'eip1559',
    nonce,
    ...tx,
    ...gasFees,
  })
  const hash = keccak256(raw)
  while (Date.now() < deadline) {
    const u = await liveUrl(k)
    if (u) {
      try {
        await rpc(u, 'eth_sendRawTransaction', [raw])
      } catch {}
      for (let i = 0; i < 20; i++) {
        const r = await rpc<{ gasUsed: Hex; effectiveGasPrice: Hex } | null>(u, 'eth_getTransactionReceipt', [
          hash,
        ]).catch(() => null)
        if (r) return { hash, gasCost: BigInt(r.gasUsed) * BigInt(r.effectiveGasPrice) }
        await sleep(250)
      }
    } else await sleep(1000)
  }
  // Not included by the deadline: it may still be (the checker reads the chain, not this answer).
  return { hash, gasCost: -1n }
}

// Two relayers, each with a key of its own on every shard (drawn until it lives there), funded by
// the first dev account of each shard.
const relayerKeys: Hex[][] = [[], []]
for (const keys of relayerKeys) {
  for (let k = 0; k < S; k++) {
    for (;;) {
      const key = keccak256(toHex(`relayer ${opts.seed} ${rand()}`))
      if (shardOf(privateKeyToAccount(key).address) === k) {
        keys.push(key)
        break
      }
    }
  }
}
for (let k = 0; k < S; k++) {
  const funder = dev.find((a) => shardOf(a.address) === k)
  if (!funder) throw new Error(`no dev account lives on shard ${k}`)
  for (const keys of relayerKeys) {
    await transact(k, funder, { to: privateKeyToAccount(keys[k] as Hex).address, value: 10n ** 21n, gas: 21_000n })
  }
}
const relayers: Proc[] = relayerKeys.map((keys, r) => ({
  name: `relayer-${r + 1}`,
  args: [
    'relayer',
    ...gw.shards.flatMap((s) => ['--shard', `${s.id}=${urlOf(s.id, 0)}`]),
    ...keys.flatMap((k) => ['--key', k]),
    '--poll-ms',
    '500',
  ],
  paused: false,
}))
for (const p of relayers) {
  procs.push(p)
  launch(p)
}
say('relayers funded and started; the workload, the nemesis and the adversary begin')

// ---- workload -------------------------------------------------------------------------------
const senders = dev
const receivers = new Map<string, number>()
const gasBy = new Map<string, bigint>()
const before = new Map<string, bigint>()
for (const a of senders) {
  const k = shardOf(a.address)
  before.set(
    a.address.toLowerCase(),
    BigInt(await rpc<Hex>((await liveUrl(k)) as string, 'eth_getBalance', [a.address, 'latest'])),
  )
}
let running = true
let sends = 0
let unknownGas = 0
async function workload(a: (typeof senders)[number], n: number): Promise<void> {
  for (let j = 0; running; j++) {
    try {
      await sendOne(a, n, j)
    } catch {
      await sleep(500)
    }
  }
}
async function sendOne(a: (typeof senders)[number], n: number, j: number): Promise<void> {
  const home = shardOf(a.address)
  {
    const dest = (home + 1 + Math.floor(rand() * (S - 1))) % S
    let to: Hex
    for (let t = 0; ; t++) {
      to = `0x${keccak256(toHex(`receiver ${opts.seed} ${n} ${j} ${t}`)).slice(26)}` as Hex
      if (shardOf(to) === dest) break
    }
    receivers.set(to.toLowerCase(), dest)
    let timeout = 1_000_000n
    if (rand() < 0.15) {
      const u = await liveUrl(dest)
      if (u) timeout = BigInt(await rpc<Hex>(u, 'eth_blockNumber').catch(() => '0x0')) + 4n
    }
    const r = await transact(home, a, {
      to: BRIDGE_ADDRESS,
      value: BigInt(1 + Math.floor(rand() * 1000)) * 10n ** 12n,
      data: encodeFunctionData({ abi: bridgeAbi, functionName: 'send', args: [dest, to, timeout, '0x'] }),
      gas: 150_000n,
    })
    if (r === undefined) return
    if (r.gasCost < 0n) unknownGas++
    else gasBy.set(a.address.toLowerCase(), (gasBy.get(a.address.toLowerCase()) ?? 0n) + r.gasCost)
    sends++
  }
}

// ---- nemesis --------------------------------------------------------------------------------
const faults: string[] = []
async function nemesis(): Promise<void> {
  while (running) {
    await sleep(5000 + rand() * 7000)
    if (!running) break
    const target = rand() < 0.5 ? pick(validators.flat()) : pick(relayers)
    const pause = opts.pause && rand() < 0.4
    const down = 2000 + rand() * 6000
    faults.push(`${pause ? 'pause' : 'kill'} ${target.name} for ${(down / 1000).toFixed(1)} s`)
    say(faults.at(-1) as string)
    if (pause) {
      signal(target, 'SIGSTOP')
      target.paused = true
      await sleep(down)
      signal(target, 'SIGCONT')
      target.paused = false
    } else {
      signal(target, 'SIGKILL')
      await sleep(down)
      launch(target)
    }
  }
}

// ---- adversary: replays, tampered amounts, re-settlements (each must revert) --------------------
const refusals = new Map<string, number>()
const accepted: string[] = []
async function callBridge(k: number, data: Hex): Promise<string> {
  const url = await liveUrl(k)
  if (!url) return 'down'
  try {
    await rpc(url, 'eth_call', [{ to: BRIDGE_ADDRESS, data, gas: numberToHex(5_000_000) }, 'latest'])
    return 'accepted'
  } catch (err) {
    const d = (err as { data?: unknown }).data
    if (typeof d === 'string' && d.startsWith('0x')) {
      try {
        return String(decodeErrorResult({ abi: bridgeAbi, data: d as Hex }).args[0])
      } catch {}
    }
    return 'reverted'
  }
}
async function view(k: number, fn: 'sent' | 'received' | 'clientHeight', shard: number): Promise<bigint> {
  const url = await liveUrl(k)
  if (!url) throw new Error('down')
  const out = await rpc<Hex>(url, 'eth_call', [
    { to: BRIDGE_ADDRESS, data: encodeFunctionData({ abi: bridgeAbi, functionName: fn, args: [shard] }) },
    'latest',
  ])
  return decodeFunctionResult({ abi: bridgeAbi, functionName: fn, data: out }) as bigint
}
async function adversary(): Promise<void> {
  while (running) {
    await sleep(2000)
    try {
      const s = Math.floor(rand() * S)
      const d = (s + 1 + Math.floor(rand() * (S - 1))) % S
      const received = await view(d, 'received', s)
      const verified = await view(d, 'clientHeight', s)
      if (received === 0n || verified === 0n) continue
      const seq = 1n + BigInt(Math.floor(rand() * Number(received)))
      const src = await liveUrl(s)
      if (!src) continue
      const topics = [null, toHex(d, { size: 32 }), toHex(seq, { size: 32 })]
      const logs = await rpc<{ topics: Hex[]; data: Hex }[]>(src, 'eth_getLogs', [
        { address: BRIDGE_ADDRESS, fromBlock: '0x0', toBlock: 'latest', topics: [sentTopic, ...topics.slice(1)] },
      ])
      const ev = logs[0] && decodeEventLog({ abi: bridgeAbi, data: logs[0].data, topics: logs[0].topics as [Hex] })
      if (!ev) continue
      const raw = (ev.args as { message: Hex }).message
      const m = decodeMessage(hexToBytes(raw))
      // A proof at the source's head (a node keeps recent states only; the light client lags): a
      // replay is refused on its sequence before its proof is looked at, so any proof will do.
      const proof = await rpc<{ accountProof: Hex[]; storageProof: { proof: Hex[] }[] }>(src, 'eth_getProof', [
        BRIDGE_ADDRESS,
        [toHex(commitmentSlot(d, seq))],
        'latest',
      ]).catch(() => undefined)
      if (!proof) continue
      const attempt = async (what: string, k: number, data: Hex) => {
        const code = await callBridge(k, data)
        if (code === 'accepted') accepted.push(`${what} ${s}→${d} #${seq}`)
        else if (code !== 'down') refusals.set(`${what}: ${code}`, (refusals.get(`${what}: ${code}`) ?? 0) + 1)
      }
      const receive = (message: Hex) =>
        encodeFunctionData({
          abi: bridgeAbi,
          functionName: 'receiveMessage',
          args: [message, verified, proof.accountProof, proof.storageProof[0]?.proof ?? []],
        })
      await attempt('replay', d, receive(raw))
      await attempt('tampered amount', d, receive(toHex(encodeMessage({ ...m, value: m.value * 2n + 1n }))))
      // A receipt proof at the destination's head for a lying status (delivered ↔ refunded).
      const dst = await liveUrl(d)
      const back = await view(s, 'clientHeight', d)
      if (!dst || back === 0n) continue
      // Settled already (its commitment gone): a settlement now, whatever its status, is a forgery.
      const pending = await rpc<Hex>(src, 'eth_getStorageAt', [BRIDGE_ADDRESS, toHex(commitmentSlot(d, seq)), 'latest'])
      if (BigInt(pending) !== 0n) continue
      const rp = await rpc<{ accountProof: Hex[]; storageProof: { proof: Hex[] }[] }>(dst, 'eth_getProof', [
        BRIDGE_ADDRESS,
        [toHex(receiptSlot(s, seq))],
        'latest',
      ]).catch(() => undefined)
      if (!rp) continue
      for (const status of [ReceiptStatus.DELIVERED, ReceiptStatus.EXPIRED]) {
        await attempt(
          `settle as ${status === 1 ? 'delivered' : 'expired'}`,
          s,
          encodeFunctionData({
            abi: bridgeAbi,
            functionName: 'settle',
            args: [raw, status, '0x', back, rp.accountProof, rp.storageProof[0]?.proof ?? []],
          }),
        )
      }
    } catch (err) {
      adversaryErrors.set(
        (err as Error).message.slice(0, 120),
        1 + (adversaryErrors.get((err as Error).message.slice(0, 120)) ?? 0),
      )
    }
  }
}
const adversaryErrors = new Map<string, number>()
const sentTopic = keccak256(toHex('MessageSent(bytes32,uint32,uint64,bytes)'))

// ---- the run --------------------------------------------------------------------------------
const t0 = Date.now()
const loops = [...senders.map((a, n) => workload(a, n)), nemesis(), adversary()]
await sleep(opts.duration * 1000)
running = false
say(`stopping the workload after ${opts.duration} s (${sends} sends); resuming every process`)
await Promise.all(loops)
for (const p of procs) {
  if (p.paused) signal(p, 'SIGCONT')
  if (p.child === undefined || p.child.exitCode !== null || p.child.signalCode !== null) launch(p)
}

// ---- drain: every channel decided and settled ---------------------------------------------------
async function pendingCount(): Promise<number> {
  let pending = 0
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < S; d++) {
      if (s === d) continue
      const sent = await view(s, 'sent', d)
      const received = await view(d, 'received', s)
      pending += Number(sent - received)
      for (let q = 1n; q <= sent; q++) {
        const url = (await liveUrl(s)) as string
        const c = await rpc<Hex>(url, 'eth_getStorageAt', [BRIDGE_ADDRESS, toHex(commitmentSlot(d, q)), 'latest'])
        if (BigInt(c) !== 0n) pending++
      }
    }
  }
  return pending
}
let drained = true
try {
  await until('every message decided and settled', 900_000, async () => (await pendingCount()) === 0)
} catch {
  drained = false
}
say(`drained: ${drained} (${((Date.now() - t0) / 1000).toFixed(0)} s since the start)`)

// ---- collect and check ------------------------------------------------------------------------
const sent: SentEvent[] = []
const received: ReceivedEvent[] = []
const settled: SettledEvent[] = []
for (let k = 0; k < S; k++) {
  const url = (await liveUrl(k)) as string
  const logs = await rpc<{ topics: Hex[]; data: Hex; blockNumber: Hex; logIndex: Hex }[]>(url, 'eth_getLogs', [
    { address: BRIDGE_ADDRESS, fromBlock: '0x0', toBlock: 'latest' },
  ])
  for (const l of logs) {
    const ev = decodeEventLog({ abi: bridgeAbi, data: l.data, topics: l.topics as [Hex] })
    const a = ev.args as Record<string, unknown>
    if (ev.eventName === 'MessageSent') {
      const m = decodeMessage(hexToBytes(a.message as Hex))
      sent.push({
        source: k,
        dest: m.destShard,
        sequence: m.sequence,
        hash: a.hash as string,
        sender: toHex(m.sender).toLowerCase(),
        receiver: toHex(m.receiver).toLowerCase(),
        value: m.value,
      })
    } else if (ev.eventName === 'MessageReceived') {
      received.push({
        source: Number(a.sourceShard),
        dest: k,
        sequence: a.sequence as bigint,
        hash: a.hash as string,
        status: Number(a.status),
        at: [BigInt(l.blockNumber), Number(BigInt(l.logIndex))],
      })
    } else if (ev.eventName === 'MessageSettled') {
      settled.push({
        source: k,
        dest: Number(a.destShard),
        sequence: a.sequence as bigint,
        hash: a.hash as string,
        refunded: a.refunded as boolean,
      })
    }
  }
}
const balance = async (k: number, a: string) =>
  BigInt(await rpc<Hex>((await liveUrl(k)) as string, 'eth_getBalance', [a, 'latest']))
// The gas of sends whose inclusion the workload did not see (a node died under it): from the chain.
const senderObs = []
for (const a of senders) {
  const k = shardOf(a.address)
  const addr = a.address.toLowerCase()
  senderObs.push({
    address: addr,
    shard: k,
    before: before.get(addr) as bigint,
    after: await balance(k, addr),
    gas: gasBy.get(addr) ?? 0n,
  })
}
const verdict = checkShardRun({
  sent,
  received,
  settled,
  drained,
  senders: unknownGas === 0 ? senderObs : [],
  receivers: await Promise.all(
    [...receivers].map(async ([address, shard]) => ({ address, shard, balance: await balance(shard, address) })),
  ),
  bridges: await Promise.all(Array.from({ length: S }, (_, k) => balance(k, BRIDGE_ADDRESS))),
})
for (const a of accepted) verdict.violations.push(`the adversary's ${a} was accepted`)
stopAll()
say(
  `faults: ${faults.length} (${faults.filter((f) => f.startsWith('kill')).length} kills, ${faults.filter((f) => f.startsWith('pause')).length} pauses)`,
)
if (adversaryErrors.size > 0)
  say(`adversary's own errors: ${[...adversaryErrors].map(([k, n]) => `${k} ×${n}`).join('; ')}`)
say(`adversary refused: ${[...refusals].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none tried'}`)
say(
  `messages: ${verdict.stats.sent} sent on ${verdict.stats.channels} channels, ${verdict.stats.delivered} delivered, ${verdict.stats.refunded} refunded, ${verdict.stats.inFlight} in flight` +
    (unknownGas > 0 ? ` (senders' balances not checked: ${unknownGas} sends' gas unknown)` : ''),
)
if (verdict.violations.length > 0) {
  say(`VIOLATIONS (seed ${opts.seed}, kept in ${opts.dir}):\n  ${verdict.violations.join('\n  ')}`)
  process.exit(1)
}
say('clean: supply conserved, every message decided once and settled once, in order, nothing forged accepted')
if (!opts.keep) rmSync(opts.dir, { recursive: true, force: true })
process.exit(0)
