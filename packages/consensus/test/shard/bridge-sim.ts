/**
 * The bridge's seeded simulator: S shards (real tries, headers and certificates: `sim-shard.ts`),
 * users sending random cross-shard transfers between every pair, headers reaching each light
 * client late and in bursts, and relayers that relay at random heights, out of order, twice,
 * with tampered amounts, through the wrong shard's light client, and claim refunds of delivered
 * messages. A model predicts every call's outcome; after every step the invariants hold:
 *  - supply: the balances of all shards plus the value in flight (sent, neither credited nor
 *    refunded) is the initial supply;
 *  - exactly once: a message is credited at most once, refunded at most once, never both;
 *  - order: each channel's deliveries are 1, 2, 3, … ;
 *  - no forged or replayed proof is accepted: every call ends as the model says (a refusal with its
 *    own code where the relayer cheats).
 * Then the network drains (every header to every light client, every message relayed and settled)
 * and nothing is left in flight. A failing seed replays: `runBridgeSim(seed)`.
 */

import {
  type CrossShardMessage,
  commitmentSlot,
  type Decision,
  ReceiptStatus,
  receiptSlot,
  receiveMessage,
  type ShardLightClient,
  sendMessage,
  settleMessage,
} from '../../src/shard/index.ts'
import { Prng } from '../bft/sim/prng.ts'
import { SimShard } from './sim-shard.ts'

interface Tracked {
  m: CrossShardMessage
  /** The source height whose state first holds the commitment (its next seal after the send). */
  committedAt?: number
  /** The source height from which the commitment is gone (its next seal after settling). */
  settledAt?: number
  decision?: Decision
  /** The destination height whose state first holds the receipt. */
  decidedAt?: number
  credited: number
  refunded: number
  pendingSeal: 'commit' | 'decide' | 'settle' | null
}

export interface BridgeSimResult {
  steps: number
  sent: number
  delivered: number
  refunded: number
  refusals: Record<string, number>
}

export interface BridgeSimOptions {
  shards?: number
  steps?: number
}

const USERS = 4
const START = 1_000_000n

export async function runBridgeSim(seed: number, opts: BridgeSimOptions = {}): Promise<BridgeSimResult> {
  const S = opts.shards ?? 3
  const rng = new Prng(seed)
  const shards = Array.from({ length: S }, (_, i) => new SimShard(i))
  const users = shards.map((_, s) => Array.from({ length: USERS }, (_, u) => new Uint8Array(20).fill(16 * s + u + 1)))
  for (const [s, shard] of shards.entries()) for (const u of users[s] as Uint8Array[]) shard.credit(u, START)
  const supply = START * BigInt(S * USERS)
  for (const shard of shards) await shard.seal()
  // lc[observer][observed]: the observer's light client of the observed shard.
  const lc: ShardLightClient[][] = shards.map(() => shards.map((t) => t.lightClient()))
  const msgs: Tracked[] = []
  const byChannel = new Map<string, Tracked[]>()
  const deliveredOrder = new Map<string, bigint[]>()
  const result: BridgeSimResult = { steps: 0, sent: 0, delivered: 0, refunded: 0, refusals: {} }
  const fail = (what: string): never => {
    throw new Error(`seed ${seed}, step ${result.steps}: ${what}`)
  }
  const refused = (code: string) => {
    result.refusals[code] = (result.refusals[code] ?? 0) + 1
  }
  /** Runs `call`, which the model says ends with `expected` ('ok' or an error code). */
  async function expectOutcome<T>(expected: string, call: () => Promise<T>): Promise<T | undefined> {
    let got = 'ok'
    let value: T | undefined
    try {
      value = await call()
    } catch (err) {
      got = (err as { code?: string }).code ?? `thrown: ${(err as Error).message}`
    }
    if (got !== expected) fail(`expected ${expected}, got ${got}`)
    if (got !== 'ok') refused(got)
    return value
  }

  async function seal(s: number): Promise<void> {
    const shard = shards[s] as SimShard
    const h = (await shard.seal()).height
    for (const t of msgs) {
      if (t.pendingSeal === null) continue
      if (t.pendingSeal === 'commit' && t.m.sourceShard === s) [t.committedAt, t.pendingSeal] = [h, null]
      else if (t.pendingSeal === 'decide' && t.m.destShard === s) [t.decidedAt, t.pendingSeal] = [h, null]
      else if (t.pendingSeal === 'settle' && t.m.sourceShard === s) [t.settledAt, t.pendingSeal] = [h, null]
    }
  }

  function sync(observer: number, observed: number, n: number): void {
    const client = lc[observer]?.[observed] as ShardLightClient
    const shard = shards[observed] as SimShard
    for (const sealed of shard.sealed.slice(client.height, client.height + n))
      client.update(sealed.rlp, sealed.certificate)
  }

  function send(): void {
    const s = rng.int(0, S - 1)
    const shard = shards[s] as SimShard
    const sender = users[s]?.[rng.int(0, USERS - 1)] as Uint8Array
    const balance = shard.balanceOf(sender)
    if (balance === 0n) return
    const d = (s + rng.int(1, S - 1)) % S
    const value = BigInt(rng.int(1, 1000))
    if (value > balance) return
    const dest = shards[d] as SimShard
    const hook = rng.chance(0.15) ? 0xff : 1
    const m = sendMessage(shard, {
      sender,
      destShard: d,
      receiver: users[d]?.[rng.int(0, USERS - 1)] as Uint8Array,
      value,
      data: Uint8Array.of(hook),
      timeoutHeight: dest.height() + BigInt(rng.int(2, 14)),
    })
    const t: Tracked = { m, credited: 0, refunded: 0, pendingSeal: 'commit' }
    msgs.push(t)
    const key = `${s}>${d}`
    byChannel.set(key, [...(byChannel.get(key) ?? []), t])
    result.sent++
  }

  const hook = (m: CrossShardMessage) =>
    m.data[0] === 0xff ? { ok: false as const } : { ok: true as const, ack: Uint8Array.of(7) }

  async function relay(adversarial: boolean): Promise<void> {
    const channels = [...byChannel.entries()].filter(([, l]) => l.length > 0)
    if (channels.length === 0) return
    const [key, list] = channels[rng.int(0, channels.length - 1)] as [string, Tracked[]]
    const [s, d] = key.split('>').map(Number) as [number, number]
    const dest = shards[d] as SimShard
    // Mostly the channel's next message; sometimes one before (a replay) or after (out of order).
    const next = Number(dest.received(s)) + 1
    const pick = rng.chance(0.7) ? next : rng.int(1, list.length)
    const t = list[pick - 1]
    if (t === undefined) return
    const client = lc[d]?.[s] as ShardLightClient
    if (client.height < 1) return
    const h = rng.chance(0.6) ? client.height : rng.int(1, client.height)
    const proof = await (shards[s] as SimShard).prove(h, commitmentSlot(d, t.m.sequence))
    const present = t.committedAt !== undefined && t.committedAt <= h && (t.settledAt === undefined || h < t.settledAt)
    if (adversarial) {
      const kind = rng.int(0, 1)
      const forged = kind === 0 ? { ...t.m, value: t.m.value + 1n } : t.m
      const via = kind === 0 ? client : (lc[d]?.[(s + 1) % S === d ? (s + 2) % S : (s + 1) % S] as ShardLightClient)
      if (via.shard === d) return
      const expected =
        t.m.sequence < BigInt(next)
          ? 'CONSENSUS_SHARD_REPLAYED'
          : t.m.sequence > BigInt(next)
            ? 'CONSENSUS_SHARD_OUT_OF_ORDER'
            : 'CONSENSUS_SHARD_INVALID_PROOF'
      // A wrong light client is caught before the sequence checks.
      const code = kind === 1 && via.shard !== s ? 'CONSENSUS_SHARD_INVALID_PROOF' : expected
      await expectOutcome(code, () => receiveMessage(dest, forged, { height: h, proof }, via, hook))
      return
    }
    const expected =
      t.m.sequence < BigInt(next)
        ? 'CONSENSUS_SHARD_REPLAYED'
        : t.m.sequence > BigInt(next)
          ? 'CONSENSUS_SHARD_OUT_OF_ORDER'
          : present
            ? 'ok'
            : 'CONSENSUS_SHARD_INVALID_PROOF'
    const before = dest.balanceOf(t.m.receiver)
    const decision = await expectOutcome(expected, () => receiveMessage(dest, t.m, { height: h, proof }, client, hook))
    if (decision === undefined) return
    t.decision = decision
    t.pendingSeal = 'decide'
    const order = deliveredOrder.get(key) ?? []
    if (order.length > 0 && (order.at(-1) as bigint) + 1n !== t.m.sequence)
      fail(`channel ${key} took #${t.m.sequence} after #${order.at(-1)}`)
    if (order.length === 0 && t.m.sequence !== 1n) fail(`channel ${key} started at #${t.m.sequence}`)
    order.push(t.m.sequence)
    deliveredOrder.set(key, order)
    const expired = dest.height() >= t.m.timeoutHeight
    const wantStatus = expired
      ? ReceiptStatus.EXPIRED
      : t.m.data[0] === 0xff
        ? ReceiptStatus.FAILED
        : ReceiptStatus.DELIVERED
    if (decision.status !== wantStatus)
      fail(`#${t.m.sequence} on ${key} decided ${decision.status}, expected ${wantStatus}`)
    if (decision.status === ReceiptStatus.DELIVERED) {
      t.credited++
      result.delivered++
      if (dest.balanceOf(t.m.receiver) !== before + t.m.value) fail('the receiver was not credited the value')
    } else if (dest.balanceOf(t.m.receiver) !== before) fail('a message that was not delivered credited its receiver')
  }

  async function settle(adversarial: boolean): Promise<void> {
    const decided = msgs.filter((t) => t.decision !== undefined)
    if (decided.length === 0) return
    const t = decided[rng.int(0, decided.length - 1)] as Tracked
    const [s, d] = [t.m.sourceShard, t.m.destShard]
    const client = lc[s]?.[d] as ShardLightClient
    if (client.height < 1) return
    const h = rng.chance(0.6) ? client.height : rng.int(1, client.height)
    const proof = await (shards[d] as SimShard).prove(h, receiptSlot(s, t.m.sequence))
    const source = shards[s] as SimShard
    const pending =
      t.refunded === 0 && t.settledAt === undefined && t.pendingSeal !== 'settle' && !(t as { done?: boolean }).done
    const decision = t.decision as Decision
    if (adversarial) {
      // Claim a refund of a delivered message (or delivery of a refunded one): the receipt says otherwise.
      const lie = {
        ...decision,
        status: decision.status === ReceiptStatus.DELIVERED ? ReceiptStatus.FAILED : ReceiptStatus.DELIVERED,
      }
      await expectOutcome(pending ? 'CONSENSUS_SHARD_INVALID_PROOF' : 'CONSENSUS_SHARD_NOT_PENDING', () =>
        settleMessage(source, t.m, lie, { height: h, proof }, client),
      )
      return
    }
    const present = t.decidedAt !== undefined && t.decidedAt <= h
    const expected = !pending ? 'CONSENSUS_SHARD_NOT_PENDING' : present ? 'ok' : 'CONSENSUS_SHARD_INVALID_PROOF'
    const before = source.balanceOf(t.m.sender)
    const outcome = await expectOutcome(expected, () =>
      settleMessage(source, t.m, decision, { height: h, proof }, client),
    )
    if (outcome === undefined) return
    ;(t as { done?: boolean }).done = true
    t.pendingSeal = 'settle'
    if (outcome === 'refunded') {
      t.refunded++
      result.refunded++
      if (source.balanceOf(t.m.sender) !== before + t.m.value) fail('a refund did not credit the sender')
    } else if (decision.status !== ReceiptStatus.DELIVERED)
      fail('a message that was not delivered settled as delivered')
  }

  function checkInvariants(): void {
    let total = 0n
    for (const shard of shards) total += shard.totalBalance()
    let inFlight = 0n
    for (const t of msgs) {
      if (t.credited > 1 || t.refunded > 1 || t.credited + t.refunded > 1)
        fail(`#${t.m.sequence} credited ${t.credited}×, refunded ${t.refunded}×`)
      if (t.credited === 0 && t.refunded === 0) inFlight += t.m.value
    }
    if (total + inFlight !== supply) fail(`supply ${total} + in flight ${inFlight} ≠ ${supply}`)
  }

  const steps = opts.steps ?? 200
  for (let i = 0; i < steps; i++) {
    result.steps = i + 1
    const r = rng.float()
    if (r < 0.25) send()
    else if (r < 0.42) await seal(rng.int(0, S - 1))
    else if (r < 0.57) {
      const o = rng.int(0, S - 1)
      sync(o, (o + rng.int(1, S - 1)) % S, rng.int(1, 3))
    } else if (r < 0.77) await relay(rng.chance(0.15))
    else await settle(rng.chance(0.15))
    checkInvariants()
  }
  // Drain: every header everywhere, every message relayed in order, then every receipt settled.
  for (let round = 0; round < 3; round++) {
    for (let s = 0; s < S; s++) await seal(s)
    for (let o = 0; o < S; o++) for (let t = 0; t < S; t++) if (o !== t) sync(o, t, 1_000_000)
    for (const [key, list] of byChannel) {
      const [s, d] = key.split('>').map(Number) as [number, number]
      const dest = shards[d] as SimShard
      for (const t of list) {
        if (t.m.sequence !== dest.received(s) + 1n || t.committedAt === undefined) continue
        const client = lc[d]?.[s] as ShardLightClient
        const proof = await (shards[s] as SimShard).prove(client.height, commitmentSlot(d, t.m.sequence))
        const decision = await receiveMessage(dest, t.m, { height: client.height, proof }, client, hook)
        t.decision = decision
        t.pendingSeal = 'decide'
        if (decision.status === ReceiptStatus.DELIVERED) {
          t.credited++
          result.delivered++
        }
      }
    }
    for (let s = 0; s < S; s++) await seal(s)
    for (let o = 0; o < S; o++) for (let t = 0; t < S; t++) if (o !== t) sync(o, t, 1_000_000)
    for (const t of msgs) {
      if (t.decision === undefined || (t as { done?: boolean }).done || t.decidedAt === undefined) continue
      const [s, d] = [t.m.sourceShard, t.m.destShard]
      const client = lc[s]?.[d] as ShardLightClient
      const proof = await (shards[d] as SimShard).prove(client.height, receiptSlot(s, t.m.sequence))
      const outcome = await settleMessage(
        shards[s] as SimShard,
        t.m,
        t.decision,
        { height: client.height, proof },
        client,
      )
      ;(t as { done?: boolean }).done = true
      if (outcome === 'refunded') {
        t.refunded++
        result.refunded++
      }
    }
    checkInvariants()
  }
  const left = msgs.filter((t) => !(t as { done?: boolean }).done)
  if (left.length > 0) fail(`${left.length} messages left unsettled after draining`)
  let total = 0n
  for (const shard of shards) total += shard.totalBalance()
  if (total !== supply) fail(`after draining the balances hold ${total}, not ${supply}`)
  return result
}
