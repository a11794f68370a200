/**
 * The relayer (`cairn relayer`): carries cross-shard messages between shards over their public
 * JSON-RPC only, trusting none of them — every header it hands a bridge is checked against its
 * certificate there, every message and receipt against a proof under a verified header. Anyone
 * may run one, several may run at once (a relay already done is refused and skipped).
 *
 * For each ordered pair of shards (s → d), every turn:
 *   deliver  the messages s sent to d that d has not received (its `received(s)`, from the next
 *            sequence on, as `MessageSent` logs on s): d's light client of s brought up to s's
 *            finalized head (`updateClient` with `debug_getRawHeader` + `cairn_getCommit`), then
 *            `receiveMessage` with `eth_getProof` of the commitment at that height, in order
 *   settle   the messages s sent to d that d decided (`MessageReceived` logs on d) and s still
 *            holds (the commitment in s's bridge storage): s's light client of d brought up, then
 *            `settle` with the proof of the receipt — acknowledging a delivery, refunding the rest
 * Transactions on shard k are signed by a key whose home shard is k (the shard's pool refuses
 * others), sent in a batch with consecutive nonces, and awaited.
 */

import { encodeCertificate } from '@cairn/consensus'
import { BRIDGE_ADDRESS, bridgeAbi, commitmentSlot, homeShard, receiptSlot } from '@cairn/consensus/shard'
import { CairnError, type Logger } from '@cairn/utils'
import { Counter, Histogram, type Registry } from 'prom-client'
import {
  decodeEventLog,
  decodeFunctionResult,
  encodeEventTopics,
  encodeFunctionData,
  type Hex,
  numberToHex,
  toHex,
} from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { GatewayErrorCode } from './errors.ts'
import type { GatewayShard } from './gateway.ts'

export interface RelayerOptions {
  /** Every shard of the network, numbered 0..n−1. */
  shards: GatewayShard[]
  /** Private keys; for each shard the first whose address lives on it signs there. */
  keys: Hex[]
  /** Pause between turns (ms); default 1,000. */
  pollMs?: number
  /** Most transactions of one kind sent in one batch; default 64. */
  batch?: number
  /** Gas of each relay transaction; default 1,500,000. */
  gas?: bigint
}

export interface RelayerModules {
  logger: Logger
  metrics?: RelayerMetrics | null
  fetch?: typeof fetch
  sleep?: (ms: number) => Promise<void>
  now?: () => number
}

interface Rpc {
  url: string
  chainId: bigint
  account: PrivateKeyAccount | undefined
}

interface SentLog {
  message: Hex
  sequence: bigint
  blockNumber: bigint
  seenAt: number
}

function relayError(message: string): CairnError {
  return new CairnError(GatewayErrorCode.SHARD_UNAVAILABLE, message, { fault: 'transient' })
}

export interface RelayerMetrics {
  relayed: Counter<'kind'>
  latency: Histogram
}

/** The relayer's metrics (`cairn_shard_relayed_total{kind}` at 0 for each kind, `cairn_shard_relay_seconds`). */
export function createRelayerMetrics(registry: Registry): RelayerMetrics {
  const registers = [registry]
  const relayed = new Counter({
    name: 'cairn_shard_relayed_total',
    help: 'Relay transactions the relayer had included, by kind (header, message, receipt)',
    labelNames: ['kind'],
    registers,
  })
  for (const kind of ['header', 'message', 'receipt']) relayed.inc({ kind }, 0)
  const latency = new Histogram({
    name: 'cairn_shard_relay_seconds',
    help: 'From the relayer first seeing a sent message to its delivery being included on the destination',
    buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120],
    registers,
  })
  return { relayed, latency }
}

export class Relayer {
  readonly #opts: RelayerOptions
  readonly #m: RelayerModules
  readonly #fetch: typeof fetch
  readonly #rpc: Rpc[] = []
  /** Per (s, d): the messages s sent to d, by sequence, and the next block to scan. */
  readonly #sent = new Map<string, { bySeq: Map<bigint, SentLog>; from: bigint }>()
  /** Per (s, d): the receipts scanned on d, and the next block to scan. */
  readonly #received = new Map<
    string,
    { from: bigint; pending: Map<bigint, { status: number; ack: Hex; blockNumber: bigint }> }
  >()
  readonly #relayed: Counter<'kind'> | null
  readonly #latency: Histogram | null
  #running = false
  #stopped: Promise<void> | undefined

  constructor(opts: RelayerOptions, modules: RelayerModules) {
    this.#opts = opts
    this.#m = modules
    this.#fetch = modules.fetch ?? fetch
    this.#relayed = modules.metrics?.relayed ?? null
    this.#latency = modules.metrics?.latency ?? null
  }

  /** Reads each shard's chain id and picks its key. */
  async connect(): Promise<void> {
    const n = this.#opts.shards.length
    for (const s of [...this.#opts.shards].sort((a, b) => a.id - b.id)) {
      const chainId = BigInt((await this.#call(s.url, 'eth_chainId', [])) as string)
      const key = this.#opts.keys.find((k) => homeShard(hexBytes(privateKeyToAccount(k).address), n) === s.id)
      const account = key ? privateKeyToAccount(key) : undefined
      if (!account) this.#m.logger.warn({ shard: s.id }, 'no key lives on this shard: nothing will be relayed into it')
      this.#rpc[s.id] = { url: s.url, chainId, account }
    }
  }

  /** Runs turns until {@link stop}. */
  start(): void {
    this.#running = true
    const sleep = this.#m.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)))
    this.#stopped = (async () => {
      while (this.#running) {
        try {
          await this.turn()
        } catch (err) {
          this.#m.logger.warn({ err: (err as Error).message }, 'relay turn failed; trying again')
        }
        if (this.#running) await sleep(this.#opts.pollMs ?? 1000)
      }
    })()
  }

  async stop(): Promise<void> {
    this.#running = false
    await this.#stopped
  }

  /** One turn over every ordered pair of shards. */
  async turn(): Promise<void> {
    for (const s of this.#opts.shards) {
      for (const d of this.#opts.shards) {
        if (s.id === d.id) continue
        await this.#deliver(s.id, d.id)
        await this.#settle(s.id, d.id)
      }
    }
  }

  async #deliver(s: number, d: number): Promise<void> {
    const src = this.#rpc[s] as Rpc
    const dst = this.#rpc[d] as Rpc
    if (!dst.account) return
    const key = `${s}-${d}`
    const scan = this.#sent.get(key) ?? { bySeq: new Map<bigint, SentLog>(), from: 0n }
    this.#sent.set(key, scan)
    const final = await this.#finalized(src.url)
    if (final >= scan.from) {
      for (const log of await this.#logs(src.url, 'MessageSent', [null, BigInt(d)], scan.from, final)) {
        const a = log.args as { sequence: bigint; message: Hex }
        scan.bySeq.set(a.sequence, {
          message: a.message,
          sequence: a.sequence,
          blockNumber: log.blockNumber,
          seenAt: this.#now(),
        })
      }
      scan.from = final + 1n
    }
    const next = (await this.#view(dst.url, 'received', s)) + 1n
    const todo: SentLog[] = []
    for (let q = next; scan.bySeq.has(q) && todo.length < (this.#opts.batch ?? 64); q++)
      todo.push(scan.bySeq.get(q) as SentLog)
    for (const q of [...scan.bySeq.keys()]) if (q < next) scan.bySeq.delete(q)
    if (todo.length === 0) return
    const height = await this.#syncClient(s, d, (todo.at(-1) as SentLog).blockNumber)
    if (height === undefined) return
    const txs: Hex[] = []
    for (const m of todo) {
      const p = await this.#proof(src.url, commitmentSlot(d, m.sequence), height)
      txs.push(
        encodeFunctionData({
          abi: bridgeAbi,
          functionName: 'receiveMessage',
          args: [m.message, height, p.accountProof, p.storageProof],
        }),
      )
    }
    const ok = await this.#send(d, txs)
    this.#relayed?.inc({ kind: 'message' }, ok)
    const now = this.#now()
    for (const m of todo) this.#latency?.observe((now - m.seenAt) / 1000)
    this.#m.logger.info(
      { from: s, to: d, messages: todo.length, included: ok, height: Number(height) },
      'relayed messages',
    )
  }

  async #settle(s: number, d: number): Promise<void> {
    const src = this.#rpc[s] as Rpc
    const dst = this.#rpc[d] as Rpc
    if (!src.account) return
    const key = `${s}-${d}`
    const scan = this.#received.get(key) ?? { from: 0n, pending: new Map() }
    this.#received.set(key, scan)
    const final = await this.#finalized(dst.url)
    if (final >= scan.from) {
      for (const log of await this.#logs(dst.url, 'MessageReceived', [null, BigInt(s)], scan.from, final)) {
        const a = log.args as { sequence: bigint; status: number; ack: Hex }
        scan.pending.set(a.sequence, { status: a.status, ack: a.ack, blockNumber: log.blockNumber })
      }
      scan.from = final + 1n
    }
    const sent = this.#sent.get(key)
    const todo: { seq: bigint; message: Hex; status: number; ack: Hex; blockNumber: bigint }[] = []
    for (const [seq, r] of scan.pending) {
      const commitment = (await this.#call(src.url, 'eth_getStorageAt', [
        BRIDGE_ADDRESS,
        toHex(commitmentSlot(d, seq)),
        'latest',
      ])) as Hex
      if (BigInt(commitment) === 0n) {
        scan.pending.delete(seq)
        continue
      }
      const message = sent?.bySeq.get(seq)?.message ?? (await this.#sentMessage(s, d, seq))
      if (message === undefined) continue
      todo.push({ seq, message, ...r })
      if (todo.length >= (this.#opts.batch ?? 64)) break
    }
    if (todo.length === 0) return
    const height = await this.#syncClient(
      d,
      s,
      todo.reduce((h, t) => (t.blockNumber > h ? t.blockNumber : h), 0n),
    )
    if (height === undefined) return
    const txs: Hex[] = []
    for (const t of todo) {
      const p = await this.#proof(dst.url, receiptSlot(s, t.seq), height)
      txs.push(
        encodeFunctionData({
          abi: bridgeAbi,
          functionName: 'settle',
          args: [t.message, t.status, t.ack, height, p.accountProof, p.storageProof],
        }),
      )
    }
    const ok = await this.#send(s, txs)
    this.#relayed?.inc({ kind: 'receipt' }, ok)
    for (const t of todo) scan.pending.delete(t.seq)
    this.#m.logger.info({ from: d, to: s, receipts: todo.length, included: ok }, 'relayed receipts')
  }

  /** The message `seq` of s → d, from s's logs (a relayer started after it was delivered). */
  async #sentMessage(s: number, d: number, seq: bigint): Promise<Hex | undefined> {
    const src = this.#rpc[s] as Rpc
    const logs = await this.#logs(src.url, 'MessageSent', [null, BigInt(d), seq], 0n, await this.#finalized(src.url))
    return (logs[0]?.args as { message?: Hex } | undefined)?.message
  }

  /**
   * Brings d's light client of s up to s's finalized head (at least `atLeast`); returns the height
   * it verified to, or undefined when s has not finalized `atLeast` yet.
   */
  async #syncClient(s: number, d: number, atLeast: bigint): Promise<bigint | undefined> {
    const src = this.#rpc[s] as Rpc
    const dst = this.#rpc[d] as Rpc
    const final = await this.#finalized(src.url)
    if (final < atLeast) return undefined
    for (;;) {
      const have = await this.#view(dst.url, 'clientHeight', s)
      if (have >= atLeast) return have
      const txs: Hex[] = []
      for (let h = have + 1n; h <= final && txs.length < (this.#opts.batch ?? 64) * 4; h++) {
        const [header, commit] = await Promise.all([
          this.#call(src.url, 'debug_getRawHeader', [numberToHex(h)]) as Promise<Hex>,
          this.#call(src.url, 'cairn_getCommit', [numberToHex(h)]) as Promise<RpcCommit | null>,
        ])
        if (commit === null) break
        txs.push(
          encodeFunctionData({
            abi: bridgeAbi,
            functionName: 'updateClient',
            args: [s, header, certificateHex(commit)],
          }),
        )
      }
      if (txs.length === 0) return have >= atLeast ? have : undefined
      const ok = await this.#send(d, txs)
      this.#relayed?.inc({ kind: 'header' }, ok)
      if (ok === 0) return undefined
    }
  }

  /** Signs and sends `calls` to the bridge on `shard` with consecutive nonces; waits for them; the number that succeeded. */
  async #send(shard: number, calls: Hex[]): Promise<number> {
    const rpc = this.#rpc[shard] as Rpc
    const account = rpc.account as PrivateKeyAccount
    let nonce = Number(
      BigInt((await this.#call(rpc.url, 'eth_getTransactionCount', [account.address, 'pending'])) as string),
    )
    const gasPrice = BigInt((await this.#call(rpc.url, 'eth_gasPrice', [])) as string)
    const hashes: Hex[] = []
    for (const data of calls) {
      const raw = await account.signTransaction({
        type: 'eip1559',
        chainId: Number(rpc.chainId),
        nonce: nonce++,
        to: BRIDGE_ADDRESS,
        data,
        gas: this.#opts.gas ?? 1_500_000n,
        maxFeePerGas: gasPrice * 2n + 10n ** 9n,
        maxPriorityFeePerGas: 10n ** 9n,
      })
      hashes.push((await this.#call(rpc.url, 'eth_sendRawTransaction', [raw])) as Hex)
    }
    let ok = 0
    for (const h of hashes) {
      const receipt = await this.#receipt(rpc.url, h)
      if (receipt?.status === '0x1') ok++
    }
    return ok
  }

  async #receipt(url: string, hash: Hex): Promise<{ status: string } | null> {
    const sleep = this.#m.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)))
    for (let i = 0; i < 120; i++) {
      const r = (await this.#call(url, 'eth_getTransactionReceipt', [hash])) as { status: string } | null
      if (r) return r
      await sleep(250)
    }
    this.#m.logger.warn({ hash }, 'a relay transaction was not included in 30 s')
    return null
  }

  async #proof(url: string, slot: Uint8Array, height: bigint): Promise<{ accountProof: Hex[]; storageProof: Hex[] }> {
    const p = (await this.#call(url, 'eth_getProof', [BRIDGE_ADDRESS, [toHex(slot)], numberToHex(height)])) as {
      accountProof: Hex[]
      storageProof: { proof: Hex[] }[]
    }
    return { accountProof: p.accountProof, storageProof: p.storageProof[0]?.proof ?? [] }
  }

  async #view(url: string, fn: 'received' | 'sent' | 'clientHeight', shard: number): Promise<bigint> {
    const data = encodeFunctionData({ abi: bridgeAbi, functionName: fn, args: [shard] })
    const out = (await this.#call(url, 'eth_call', [{ to: BRIDGE_ADDRESS, data }, 'latest'])) as Hex
    return decodeFunctionResult({ abi: bridgeAbi, functionName: fn, data: out }) as bigint
  }

  async #finalized(url: string): Promise<bigint> {
    const b = (await this.#call(url, 'eth_getBlockByNumber', ['finalized', false])) as { number: Hex } | null
    return b ? BigInt(b.number) : 0n
  }

  async #logs(
    url: string,
    event: 'MessageSent' | 'MessageReceived',
    args: (bigint | null)[],
    from: bigint,
    to: bigint,
  ): Promise<{ args: unknown; blockNumber: bigint }[]> {
    const names = ['hash', event === 'MessageSent' ? 'destShard' : 'sourceShard', 'sequence']
    const filter = Object.fromEntries(names.flatMap((n, i) => (args[i] == null ? [] : [[n, args[i]]])))
    const topics = encodeEventTopics({ abi: bridgeAbi, eventName: event, args: filter as never })
    const logs = (await this.#call(url, 'eth_getLogs', [
      { address: BRIDGE_ADDRESS, topics, fromBlock: numberToHex(from), toBlock: numberToHex(to) },
    ])) as { topics: [Hex, ...Hex[]]; data: Hex; blockNumber: Hex }[]
    return logs.map((l) => ({
      args: decodeEventLog({ abi: bridgeAbi, topics: l.topics, data: l.data }).args,
      blockNumber: BigInt(l.blockNumber),
    }))
  }

  async #call(url: string, method: string, params: unknown[]): Promise<unknown> {
    let res: Response
    try {
      res = await this.#fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
        signal: AbortSignal.timeout(30_000),
      })
    } catch (err) {
      throw relayError(`${url} did not answer ${method}: ${(err as Error).message}`)
    }
    const body = (await res.json()) as { result?: unknown; error?: { message: string } }
    if (body.error) throw relayError(`${url} ${method}: ${body.error.message}`)
    return body.result
  }

  #now(): number {
    return this.#m.now?.() ?? Date.now()
  }
}

/** `cairn_getCommit`'s answer. */
interface RpcCommit {
  height: Hex
  round: Hex
  blockHash: Hex
  signatures: { validatorIndex: Hex; signature: Hex }[]
}

function certificateHex(c: RpcCommit): Hex {
  return toHex(
    encodeCertificate({
      height: Number(BigInt(c.height)),
      round: Number(BigInt(c.round)),
      blockHash: hexBytes(c.blockHash),
      signatures: c.signatures.map((s) => ({
        validatorIndex: Number(BigInt(s.validatorIndex)),
        signature: hexBytes(s.signature),
      })),
    }),
  )
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))
}
